/**
 * The set-up of the refund-deleted-in-the-shop tests: a WooCommerce source whose paid and refunded
 * flows run on the sandbox ledger, and an order with a partial refund on its way through them.
 */
import { env, SELF } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { expect } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, type World } from "./world";

/** Delivers an order.updated signed with `secret` to the connection's webhook. */
export async function sendWoo(secret: string, connectionId: string, body: object) {
  const delivery = await woocommerceDelivery("order.updated", body, secret);
  return SELF.fetch(`${BASE}/hooks/${connectionId}`, { method: "POST", headers: delivery.headers, body: delivery.body });
}

/** The tenant's "deleted in the shop" emails. */
export async function goneAlerts(world: World) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%deleted in the shop%")));
}

/**
 * A world with a WooCommerce source (webhook secret `secret`), its paid and refunded flows, and a
 * partially refunded order of a fresh id; `at(s)` is its `date_modified_gmt` `s` seconds on.
 */
export async function refundGoneWorld(secret: string) {
  const world = await createWorld();
  const created = await world.api("/connections", {
    body: { connector: "woocommerce", name: "Woo shop", webhookSecret: secret, settings: {} },
  });
  expect(created.status).toBe(201);
  const source = created.body.id as string;
  for (const [stage, action] of [
    ["paid", "createInvoice"],
    ["refunded", "createCreditNote"],
  ] as const) {
    const flow = await world.api("/flows", {
      body: { name: `Woo ${stage}`, source, stage, steps: [{ target: world.ledgerId, action }] },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
  }
  const id = Math.floor(Math.random() * 1e9);
  const base = { ...woocommerceFixture("orderPartialRefund"), id } as Record<string, unknown>;
  const at = (s: number) => new Date(Date.parse("2026-03-07T10:45:10Z") + s * 1000).toISOString().slice(0, 19);
  return { world, source, id, base, at };
}
