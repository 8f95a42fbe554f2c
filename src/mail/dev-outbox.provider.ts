/**
 * The dev outbox: the provider used when no mail connection is given. It delivers nothing; the
 * email exists only as its `mail_outbox` row (and attachments in R2), which the UI shows, so local
 * development and demos need no mail account.
 */
import type { MailProvider } from "./mail.types";

/** Sender shown on dev-outbox emails that name none; `.invalid` can never be delivered to. */
export const DEV_OUTBOX_FROM = "Orderly dev outbox <outbox@orderly.invalid>";

export function devOutboxProvider(): MailProvider {
  return {
    id: "dev",
    vendor: "Dev outbox",
    defaultFrom: DEV_OUTBOX_FROM,
    async send() {
      return { providerId: `dev-${crypto.randomUUID()}` };
    },
  };
}

/**
 * True only under `npm start` (and the browser tests), which set DEV_SEED_TOKEN; deployed, it is
 * empty. Only there may the dev outbox show one-time links (`SendMailInput.sensitive`): the person
 * reading it is the developer, and a reset or invitation link cannot be followed any other way.
 */
export function isLocalDevelopment(env: Env): boolean {
  return Boolean(env.DEV_SEED_TOKEN);
}
