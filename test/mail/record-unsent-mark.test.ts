/**
 * An email that could not even reach `sendMail` (the tenant's settings unreadable for a moment) is
 * recorded as failed with its reason; a row whose earlier attempt may have reached the provider
 * keeps that mark, so a Postmark retry still searches before it sends again.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { recordUnsentMail } from "../../src/mail/send-mail";
import { createTenant } from "./mail-helpers";

const MARK = "The mail provider may have accepted it before this error.";

async function errorOf(tenantId: string, key: string): Promise<string | null | undefined> {
  const row = await database(env)
    .select({ error: mailOutbox.error })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, key)))
    .get();
  return row?.error;
}

async function seed(tenantId: string, key: string, error: string): Promise<void> {
  await database(env)
    .insert(mailOutbox)
    .values({
      id: `mail_${crypto.randomUUID()}`,
      tenantId,
      provider: "postmark",
      idempotencyKey: key,
      fromAddress: "alerts@example.com",
      toAddresses: ["ops@example.com"],
      subject: "Alert",
      status: "failed",
      error,
      createdAt: Date.now(),
      attemptedAt: Date.now(),
    });
}

const unsent = (tenantId: string, key: string) => ({
  tenantId,
  idempotencyKey: key,
  to: ["ops@example.com"],
  subject: "Alert",
  text: "x",
  reason: "The tenant's alert settings could not be read.",
});

describe("recordUnsentMail and an earlier attempt's mark", () => {
  it("keeps the mark of an attempt that may have reached the provider", async () => {
    const tenantId = await createTenant();
    const key = `alert/${tenantId}/marked`;
    await seed(tenantId, key, `Postmark did not answer in time. ${MARK}`);
    await recordUnsentMail(env, unsent(tenantId, key));
    const error = await errorOf(tenantId, key);
    expect(error).toContain("could not be read");
    expect(error?.endsWith(MARK)).toBe(true);
  });

  it("adds no mark to a row whose earlier attempt failed for certain", async () => {
    const tenantId = await createTenant();
    const key = `alert/${tenantId}/plain`;
    await seed(tenantId, key, "Postmark refused the address (406).");
    await recordUnsentMail(env, unsent(tenantId, key));
    expect(await errorOf(tenantId, key)).toBe("The tenant's alert settings could not be read.");
  });
});
