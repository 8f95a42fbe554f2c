/**
 * The refund-gone alert says whether it is on record, so the order's object counts the refunds as
 * told only then, and raises it again otherwise without a second email for one already kept.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { alertGoneRefunds } from "../../src/notifications/refund-gone-alerts";
import { withFailingD1 } from "./failing-d1";
import { outbox, seedTenant } from "./notification-helpers";

async function alertState(tenantId: string) {
  return env.DB.prepare("SELECT pending FROM alert_state WHERE tenant_id = ?").bind(tenantId).all<{ pending: number }>();
}

describe("the refund-gone alert's answer", () => {
  it("is true once the alert is counted and its first email sent", async () => {
    const world = await seedTenant();
    const gone = { tenantId: world.tenantId, connectionId: world.shop, orderId: "42", refundIds: ["7351"] };
    expect(await alertGoneRefunds(env, gone)).toBe(true);
    expect((await outbox(world.tenantId)).map((m) => m.subject)).toEqual([
      `[Orderly] Order 42 from "Shop": refund 7351 deleted in the shop`,
    ]);
  });

  it("is true when the first email failed but is kept in the outbox for the cron, so it is not raised again", async () => {
    const world = await seedTenant();
    const gone = { tenantId: world.tenantId, connectionId: world.shop, orderId: "42", refundIds: ["7351"] };
    // The connection's name cannot be read: the email's words are not made, a shorter one is kept.
    expect(await alertGoneRefunds(withFailingD1(/"connections"/), gone)).toBe(true);
    const [mail, ...more] = await outbox(world.tenantId);
    expect(more).toHaveLength(0);
    expect(mail).toMatchObject({ status: "failed" });
    expect(mail!.text).toContain("refund 7351 deleted in the shop");
  });

  it("is false when nothing of it was stored, so the order's object raises it again", async () => {
    const world = await seedTenant();
    const gone = { tenantId: world.tenantId, connectionId: world.shop, orderId: "42", refundIds: ["7351"] };
    expect(await alertGoneRefunds(withFailingD1(/alert_state/), gone)).toBe(false);
    expect(await outbox(world.tenantId)).toHaveLength(0);
    expect((await alertState(world.tenantId)).results).toHaveLength(0);
    // Raised again once D1 answers: one email.
    expect(await alertGoneRefunds(env, gone)).toBe(true);
    expect(await outbox(world.tenantId)).toHaveLength(1);
  });
});
