/**
 * A local load of many tenants at once, to check the design's hot spots: 20 tenants, each with a
 * Shopify shop, the sandbox ledger and e-conomic (the strict mock), send a few hundred orders
 * concurrently. Work must spread over the inbox shards, no object may take more than its share,
 * and every transfer must end completed with exactly one effect per target. Loopback only, and
 * bounded: the figures are about distribution, not speed (everything shares one local isolate).
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepReference } from "../../src/domain/reference";
import { runtimeConfig } from "../../src/worker/config";
import { createWorld, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { table } from "./cost-model";
import { installMeter, peakPerWindow, settle, startMeter, stopMeter, useDeployedResendWindow } from "./meter";

let restoreResendWindow: () => Promise<void> = async () => {};

const TENANTS = 20;
const ORDERS_PER_TENANT = 15;
const ORDERS = TENANTS * ORDERS_PER_TENANT;
const SHARDS = runtimeConfig(env).inboxShards;
/** Deliveries in flight at once, as from many shops' webhook senders. */
const CONCURRENCY = 40;

const stats = (values: number[]) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { min: Math.min(...values), mean, max: Math.max(...values) };
};

async function pool<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

describe("many tenants at once", () => {
  beforeAll(async () => {
    await installMeter();
    restoreResendWindow = await useDeployedResendWindow();
  });
  afterAll(() => restoreResendWindow());

  it("spreads 300 orders of 20 tenants over the shards, and each transfer makes one invoice per target", {
    timeout: 240_000,
  }, async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const worlds: World[] = [];
    for (let i = 0; i < TENANTS; i++) {
      const world = await createWorld();
      await world.flow("paid", [
        { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
        { target: world.economicId, action: "createInvoice" },
      ]);
      worlds.push(world);
    }
    const deliveries = worlds.flatMap((world) =>
      Array.from({ length: ORDERS_PER_TENANT }, () => ({ world, order: shopifyOrder() })),
    );
    // Interleave tenants, as traffic from many shops arrives.
    deliveries.sort((a, b) => (a.order.id % TENANTS) - (b.order.id % TENANTS) || a.order.id - b.order.id);

    startMeter();
    const started = Date.now();
    const statuses: number[] = [];
    await pool(deliveries, CONCURRENCY, async ({ world, order }) => {
      statuses.push((await world.sendShopify("orders/paid", order)).status);
    });
    const acknowledgedMs = Date.now() - started;
    await settle(2_500, 180_000);
    const usage = stopMeter();
    const drainedMs = Date.now() - started - 2_500;

    // Every delivery acknowledged, every transfer completed.
    expect(statuses.filter((s) => s === 200).length, `answers: ${statuses.join(",")}`).toBe(ORDERS);
    const tenantIds = worlds.map((w) => w.tenantId);
    const marks = tenantIds.map(() => "?").join(", ");
    const transfers = await env.DB.prepare(
      `SELECT id, status, steps_done, error_reason FROM transfers WHERE tenant_id IN (${marks})`,
    )
      .bind(...tenantIds)
      .all<{ id: string; status: string; steps_done: number }>();
    const byStatus = JSON.stringify(
      transfers.results
        .map((t) => `${t.status}/${t.steps_done} ${(t as { error_reason?: string }).error_reason ?? ""}`)
        .sort()
        .slice(0, 5),
    );
    expect(transfers.results.length, byStatus).toBe(ORDERS);
    expect(transfers.results.filter((t) => t.status === "completed" && t.steps_done === 2).length, byStatus).toBe(ORDERS);

    // One effect per transfer and target: one ledger invoice, one e-conomic draft, each by its reference.
    const ledger = await env.DB.prepare(`SELECT reference FROM ledger_invoices WHERE tenant_id IN (${marks})`)
      .bind(...tenantIds)
      .all<{ reference: string }>();
    const expectedLedger = transfers.results.map((t) => stepReference(t.id, 0)).sort();
    expect(ledger.results.map((r) => r.reference).sort()).toEqual(expectedLedger);
    const drafts = (mock.state.drafts as Array<{ references?: { other?: string } }>).map((d) => d.references?.other ?? "");
    expect(drafts.sort()).toEqual(transfers.results.map((t) => stepReference(t.id, 1)).sort());

    // Work spreads: every shard takes accepts, none more than twice its share. A call carries the
    // deliveries that came for its shard while the one before was under way, so calls ≤ deliveries.
    const accepts = Array.from({ length: SHARDS }, (_, i) => usage.doObjectCalls[`InboxDO:inbox-${i}.acceptEach`] ?? 0);
    expect(accepts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(ORDERS);
    expect(Math.min(...accepts)).toBeGreaterThan(0);
    expect(Math.max(...accepts)).toBeLessThanOrEqual((2 * ORDERS) / SHARDS);
    // One order object per order, each taking its own small number of requests.
    const orderObjects = Object.entries(usage.doObjects).filter(([key]) => key.startsWith("OrderDO:"));
    expect(orderObjects).toHaveLength(ORDERS);
    const ingests = Object.entries(usage.doObjectCalls).filter(([key]) => key.endsWith(".ingest"));
    expect(ingests.every(([, n]) => n === 1)).toBe(true);
    // One gate per e-conomic connection; none takes more than three times the mean gate's requests.
    const gates = Object.entries(usage.doObjects).filter(([key]) => key.startsWith("TargetGate:"));
    expect(gates).toHaveLength(TENANTS);
    const gateRequests = stats(gates.map(([, n]) => n));
    expect(gateRequests.max).toBeLessThanOrEqual(3 * gateRequests.mean);

    // The figures for docs/scale.md.
    const perObjectPeak = (prefix: string) =>
      Math.max(
        ...Object.entries(usage.timeline)
          .filter(([k]) => k.startsWith(prefix))
          .map(([, t]) => peakPerWindow(t)),
      );
    const orderRequests = stats(orderObjects.map(([, n]) => n));
    const shardRequests = stats(Array.from({ length: SHARDS }, (_, i) => usage.doObjects[`InboxDO:inbox-${i}`] ?? 0));
    const acceptStats = stats(accepts);
    const deferrals = usage.doCalls["OrderDO.deferStep"] ?? 0;
    const rows: Array<[string, ...Array<string | number>]> = [
      ["orders (tenants × orders each)", `${ORDERS} (${TENANTS} × ${ORDERS_PER_TENANT})`],
      ["deliveries in flight at once", CONCURRENCY],
      ["all acknowledged after, s", acknowledgedMs / 1000],
      ["all transfers completed after, s", drainedMs / 1000],
      [
        "accept calls per inbox shard (one or more deliveries each), min / mean / max",
        `${acceptStats.min} / ${acceptStats.mean.toFixed(1)} / ${acceptStats.max}`,
      ],
      [
        "requests per inbox shard (accept + alarm), min / mean / max",
        `${shardRequests.min} / ${shardRequests.mean.toFixed(1)} / ${shardRequests.max}`,
      ],
      ["busiest inbox shard, requests in its busiest second", perObjectPeak("InboxDO:")],
      [
        "requests per order object, min / mean / max",
        `${orderRequests.min} / ${orderRequests.mean.toFixed(1)} / ${orderRequests.max}`,
      ],
      [
        "requests per target gate, min / mean / max",
        `${gateRequests.min} / ${gateRequests.mean.toFixed(1)} / ${gateRequests.max}`,
      ],
      ["busiest gate, requests in its busiest second", perObjectPeak("TargetGate:")],
      ["steps deferred by a gate (rate or concurrency)", deferrals],
      ["queue messages / consumer invocations", `${usage.queue.stepSends} / ${usage.worker.queueBatches}`],
      ["mean messages per consumer invocation", usage.queue.delivered / usage.worker.queueBatches],
      ["D1 round trips, total / in the busiest second", `${usage.d1Calls} / ${peakPerWindow(usage.timeline.d1 ?? [])}`],
      ["e-conomic API calls (mock)", mock.state.requests.length],
    ];
    console.log(`\nMany tenants at once\n\n${table(rows, ["figure", "value"])}\n`);
  });
});
