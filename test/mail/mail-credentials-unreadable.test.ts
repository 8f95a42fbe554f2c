/**
 * A mail connection whose stored credentials cannot be decrypted (CREDENTIALS_KEY deployed without
 * its old key, a damaged row) is retried with a reason naming it, like a target's: putting the key
 * back lets its sends go on, and the reason says how to repair it otherwise.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../src/connectors/signatures";
import { encryptJson } from "../../src/db/credentials";
import { loadMailProvider } from "../../src/mail/mail-connection";
import { createConnection, createTenant } from "./mail-helpers";

/** A key with the test key's id ("k1") but other material: a replaced key. */
const replacedKey = { CREDENTIALS_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))) };

describe("a mail connection whose credentials cannot be read", () => {
  it("fails its load as retryable, naming the connection and the repair", async () => {
    const tenantId = await createTenant();
    const id = await createConnection(
      tenantId,
      "resend",
      { baseUrl: "https://api.resend.com", from: "Shop <shop@example.dk>" },
      { apiKey: "re_ok" },
    );
    const lost = await encryptJson(replacedKey, { apiKey: "re_old" });
    await env.DB.prepare("UPDATE connections SET credentials = ? WHERE id = ?").bind(lost, id).run();
    const error = await loadMailProvider(env, tenantId, id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "connection_credentials_unreadable", errorClass: "unavailable" });
    expect((error as Error).message).toMatch(
      /credentials of connection ".*" cannot be read.*Until then sending through it is retried/,
    );
    expect((error as { retryable: boolean }).retryable).toBe(true);
  });
});
