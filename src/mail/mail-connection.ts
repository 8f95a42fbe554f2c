/**
 * Turns a tenant's mail connection into a provider. The two mail connectors are looked up here,
 * not through the connector registry, so the mail module works whatever else is registered and
 * gets typed settings; a connection of any other connector is refused with a clear message.
 */
import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import { postmarkConnector } from "../connectors/postmark";
import { resendConnector } from "../connectors/resend";
import { database } from "../db/client";
import { openSecrets } from "../db/connections";
import { connections } from "../db/schema";
import { OrderlyError } from "../domain/errors";
import type { MailProvider } from "./mail.types";
import { postmarkProvider } from "./postmark.provider";
import { resendProvider } from "./resend.provider";

export const MAIL_CONNECTORS = ["resend", "postmark"] as const;

/**
 * Why a connection cannot be the tenant's mail connection, or null if it can: another connector,
 * or one switched off (every alert would then fail to send).
 */
export function mailConnectionProblem(row: { id: string; name: string; connector: string; enabled: boolean }): string | null {
  if (!(MAIL_CONNECTORS as readonly string[]).includes(row.connector))
    return `Connection ${row.id} is ${row.connector}, not a mail provider (${MAIL_CONNECTORS.join(", ")}).`;
  if (!row.enabled) return `Mail connection "${row.name}" is switched off: switch it on first, or choose another.`;
  return null;
}

/** Loads connection `connectionId` of the tenant and builds its provider. */
export async function loadMailProvider(env: Env, tenantId: string, connectionId: string): Promise<MailProvider> {
  const row = await database(env)
    .select()
    .from(connections)
    .where(and(eq(connections.id, connectionId), eq(connections.tenantId, tenantId)))
    .get();
  if (!row)
    throw new OrderlyError(`Mail connection ${connectionId} was not found in this tenant.`, {
      errorClass: "not_found",
      code: "mail_connection_not_found",
    });
  if (!row.enabled)
    throw new OrderlyError(`Mail connection "${row.name}" is switched off; switch it on or choose another.`, {
      errorClass: "validation",
      code: "mail_connection_disabled",
    });
  // Its webhook secret plays no part in sending: only the credentials are opened.
  const secrets = await openSecrets(env, { ...row, webhookSecret: null });
  if (secrets.unreadable) {
    // Retried like a target's unreadable credentials (src/db/connections.ts): a key put back heals it.
    throw new OrderlyError(`${secrets.unreadable.reason} Until then sending through it is retried.`, {
      errorClass: "unavailable",
      code: "connection_credentials_unreadable",
    });
  }
  const credentials = secrets.credentials;
  if (row.connector === "resend")
    return resendProvider(
      valid(resendConnector.settings, row.settings, row.name, "settings"),
      valid(resendConnector.credentials, credentials, row.name, "credentials"),
    );
  if (row.connector === "postmark")
    return postmarkProvider(
      valid(postmarkConnector.settings, row.settings, row.name, "settings"),
      valid(postmarkConnector.credentials, credentials, row.name, "credentials"),
    );
  throw new OrderlyError(
    `Connection "${row.name}" uses the ${row.connector} connector, which does not send email; choose a Resend or Postmark connection.`,
    { errorClass: "validation", code: "mail_connection_wrong_kind" },
  );
}

function valid<S extends z.ZodType>(schema: S, value: unknown, name: string, part: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || part}: ${i.message}`).join("; ");
  throw new OrderlyError(`Mail connection "${name}" has invalid ${part} (${problems}); edit the connection.`, {
    errorClass: "validation",
    code: "mail_connection_invalid",
  });
}
