/**
 * The operator's system sender (password resets, invitations): built from the Worker's own
 * configuration, always at the vendor's official address, and loud when half-configured.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sendMail } from "../../src/mail/send-mail";
import { systemMailer } from "../../src/mail/system-mailer";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createTenant, outboxRow } from "./mail-helpers";

const withVars = (vars: Record<string, string>) => ({ ...env, ...vars }) as Env;
const email = {
  to: ["ane@example.dk"],
  subject: "[Orderly] Choose a new password",
  text: "https://orderly.test/reset-password/x",
};

describe("the system mail sender", () => {
  it("is absent when nothing is configured (the dev outbox stands in)", async () => {
    expect(systemMailer(withVars({}))).toBeNull();
    const tenantId = await createTenant();
    const sent = await sendMail(env, { tenantId, idempotencyKey: "reset/none", email, via: "system" });
    expect(sent.provider).toBe("dev");
  });

  it("sends through Postmark's official API with the token and sender configured", async () => {
    const postmark = createPostmarkMock({ serverToken: "pm-operator" });
    installMailMocks({ postmark });
    const tenantId = await createTenant();
    const vars = { SYSTEM_MAIL_PROVIDER: "postmark", SYSTEM_MAIL_FROM: "Orderly <no-reply@orderly.example>" };
    const sent = await sendMail(withVars({ ...vars, SYSTEM_MAIL_TOKEN: "pm-operator" }), {
      tenantId,
      idempotencyKey: "reset/pm",
      email,
      via: "system",
    });
    expect(sent.provider).toBe("postmark");
    expect(postmark.state.requests).toHaveLength(1);
    expect(postmark.state.requests[0]?.headers["x-postmark-server-token"]).toBe("pm-operator");
    expect(postmark.state.emails[0]?.body.From).toBe("Orderly <no-reply@orderly.example>");
    expect((await outboxRow(tenantId, "reset/pm"))?.fromAddress).toBe("Orderly <no-reply@orderly.example>");
  });

  it("names every missing or wrong setting instead of falling back to the dev outbox", () => {
    expect(() => systemMailer(withVars({ SYSTEM_MAIL_PROVIDER: "sendgrid", SYSTEM_MAIL_FROM: "nope" }))).toThrow(
      /SYSTEM_MAIL_PROVIDER must be postmark or resend; SYSTEM_MAIL_FROM is not an email address.*SYSTEM_MAIL_TOKEN is not set/,
    );
    expect(() => systemMailer(withVars({ SYSTEM_MAIL_TOKEN: "re_x" }))).toThrow(
      /SYSTEM_MAIL_PROVIDER must be postmark or resend/,
    );
  });
});
