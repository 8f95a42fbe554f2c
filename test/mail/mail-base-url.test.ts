/**
 * A mail connection stored with a base URL the rule refuses (saved before it existed) sends
 * nothing: loading its provider fails with the reason, before any call.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadMailProvider } from "../../src/mail/mail-connection";
import { createConnection, createTenant } from "./mail-helpers";

describe("a mail connection's stored base URL", () => {
  it.each([
    ["resend", { apiKey: "re_ok" }],
    ["postmark", { serverToken: "pm-ok" }],
  ])("%s: a tenant-chosen URL is refused when the provider loads", async (connector, credentials) => {
    const tenantId = await createTenant();
    const id = await createConnection(
      tenantId,
      connector,
      { baseUrl: "http://10.0.0.5:8080/admin#", from: "Shop <shop@example.dk>" },
      credentials,
    );
    await expect(loadMailProvider(env, tenantId, id)).rejects.toMatchObject({
      code: "mail_connection_invalid",
      message: expect.stringContaining("baseUrl: must be an https URL of the vendor's API, such as https://api."),
    });
  });
});
