/**
 * The alert for test orders a Shopify connection ignored (processTestOrders off): a payment
 * provider left in test mode marks real sales as tests, so the tenant is told, throttled per
 * connection under `test-orders:<connection>`, like a kept delivery's alert.
 */
import { env } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { flushAlertGroups } from "../../src/notifications/notify-tenant";
import { alertTestOrderIgnored, testOrdersTopic } from "../../src/notifications/refused-alerts";
import { MINUTE, seedTenant, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;

describe("ignored test order alerts", () => {
  it("mails the first at once with how to book them if they are real; the rest of the window as one grouped email", async () => {
    const seeded = await seedTenant();
    const ignored = (n: number) => ({
      tenantId: seeded.tenantId,
      connectionId: seeded.shop,
      order: `#T-${n}`,
      reason: `Shopify order #T-${n} is a test order, so it is not booked.`,
    });
    await alertTestOrderIgnored(env, ignored(1), T0);
    await alertTestOrderIgnored(env, ignored(2), T0 + MINUTE);
    await alertTestOrderIgnored(env, ignored(3), T0 + 2 * MINUTE);
    const mails = () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, seeded.tenantId), like(mailOutbox.idempotencyKey, "%/test-orders:%")));
    const first = await mails();
    expect(first[0]?.idempotencyKey).toContain(`/${testOrdersTopic(seeded.shop)}/`);
    expect(first).toHaveLength(1);
    expect(first[0]?.subject).toBe('[Orderly] Test orders from "Shop" are being ignored');
    expect(first[0]?.text).toContain("order #T-1");
    expect(first[0]?.text).toMatch(/turn on "Process test orders" \(processTestOrders\)/);
    expect(first[0]?.text).toMatch(/add a tag to each/);

    await flushAlertGroups(env, T0 + WINDOW + MINUTE, WINDOW);
    const grouped = (await mails()).find((m) => m.idempotencyKey.endsWith("/grouped"));
    expect(grouped?.subject).toMatch(/2 more test orders from "Shop" ignored/);
    expect(grouped?.text).toMatch(/#T-2: Shopify order #T-2 is a test order/);
    // The grouped email says what to do too, not only the first.
    expect(grouped?.text).toMatch(/turn on "Process test orders"/);
  });
});
