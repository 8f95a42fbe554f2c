/**
 * The webhook route keeps a delivery it cannot take and raises its alert beside the 200: the alert,
 * once stored, marks the dead letter told (`alerted_at`), so the cron's sweep (refused-alerts-sweep.test.ts)
 * does not raise it again.
 */
import { env, SELF } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, eventually } from "../helpers/world";

const SECRET = "woo_secret_0123456789abcdef";

describe("a delivery kept by the webhook route", () => {
  it("is marked told once its alert is stored", async () => {
    const world = await createWorld();
    const created = await world.api("/connections", {
      body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET, settings: {} },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const woo = created.body.id as string;
    expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);

    const body = { ...woocommerceFixture("orderTaxExclusive"), id: Math.floor(Math.random() * 1e9), number: "W-2001" };
    const delivery = await woocommerceDelivery("order.updated", body, SECRET, {});
    const res = await SELF.fetch(`${BASE}/hooks/${woo}`, { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(200);
    const { kept } = (await res.json()) as { kept: { deadLetterId: number } };

    const alertedAt = await eventually(async () => {
      const row = await env.DB.prepare("SELECT alerted_at FROM dead_letters WHERE id = ?")
        .bind(kept.deadLetterId)
        .first<{ alerted_at: number | null }>();
      return row?.alerted_at ?? undefined;
    }, "the dead letter marked told");
    expect(alertedAt).toBeGreaterThan(0);

    // The email follows the count (the marker is claimed with it), so it may land a moment later.
    const alert = await eventually(
      () =>
        database(env)
          .select({ subject: mailOutbox.subject })
          .from(mailOutbox)
          .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%kept, not booked%")))
          .get(),
      "the kept-delivery alert",
    );
    expect(alert.subject).toBe('[Orderly] Order #W-2001 from "Woo shop" was kept, not booked');
  });
});
