/**
 * Counts the Cloudflare operations one order costs, per flow length, through the real path
 * (signed webhook → inbox shard → order object → queue → consumer → gate → target → report and
 * D1 projections). Orders go one at a time with the system idle in between, as at ordinary
 * traffic; the table is printed for docs/performance.md. Only structural facts are asserted.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import type { ObjectSql } from "../../src/durable/sql";
import { runtimeConfig } from "../../src/worker/config";
import { applyRetention, setRetention } from "../../src/worker/retention";
import { createWorld, ledgerSteps, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { type PerOrder, perOrder, priced, table } from "./cost-model";
import { installMeter, settle, startMeter, stopMeter, type Usage, useDeployedResendWindow } from "./meter";

const ORDERS = 4;
/** Silence after an order's last activity and its alarms (settle waits for those), so its work is counted with it. */
const QUIET_MS = 2_000;

type StepSpec = { target: string; action: string; settings?: Record<string, unknown> };
const economic = (w: World): StepSpec[] => [
  { target: w.economicId, action: "createInvoice" },
  { target: w.economicId, action: "bookInvoice" },
  { target: w.economicId, action: "registerPayment", settings: { journalNumber: 1, defaultContraAccountNumber: 5820 } },
];
const ledger = (w: World): StepSpec[] => ledgerSteps(w);

const SCENARIOS: Array<{ name: string; gated: number; steps: (w: World) => StepSpec[] }> = [
  { name: "1 step (ledger)", gated: 0, steps: (w) => ledger(w).slice(0, 1) },
  {
    name: "1 step (e-conomic)",
    gated: 1,
    steps: (w) => [{ target: w.economicId, action: "createInvoice", settings: { invoiceState: "booked" } }],
  },
  { name: "3 steps (e-conomic)", gated: 3, steps: economic },
  { name: "5 steps (e-conomic + ledger)", gated: 3, steps: (w) => [...economic(w), ...ledger(w)] },
];

const results: Array<{
  name: string;
  tenantId: string;
  steps: number;
  usage: Usage;
  per: PerOrder;
  d1BytesPerOrder: number;
  objectBytes: number;
  webhookBytes: number;
}> = [];

async function d1Size(): Promise<number> {
  return (await env.DB.prepare("SELECT 1").all()).meta.size_after ?? 0;
}

describe("the cost of one order", () => {
  let restoreResendWindow: () => Promise<void> = async () => {};
  beforeAll(async () => {
    await installMeter();
    restoreResendWindow = await useDeployedResendWindow();
    // Every inbox shard warm, as in steady traffic (an empty accept stores nothing), with its tables:
    // a shard creates them with its first statement, once in its life, not once per order.
    await Promise.all(
      Array.from({ length: runtimeConfig(env).inboxShards }, async (_, i) => {
        const shard = env.INBOXES.get(env.INBOXES.idFromName(`inbox-${i}`));
        await shard.acceptEach([]);
        await runInDurableObject(shard, (instance: InboxDO) => (instance as unknown as { sql: ObjectSql }).sql.one("SELECT 1"));
      }),
    );
  });

  for (const scenario of SCENARIOS) {
    it(`counts ${scenario.name}: one queue message and one claim per order, one report per step`, {
      timeout: 60_000,
    }, async () => {
      const mock: EconomicMock = createEconomicMock();
      installEconomicMock(mock);
      const world = await createWorld();
      const steps = scenario.steps(world);
      await world.flow("paid", steps);
      // A warm-up order creates the target's gate and fills the connection caches; it is not counted.
      const warm = shopifyOrder();
      await world.sendShopify("orders/paid", warm);
      await settledTransfers(world, String(warm.id), 1);
      await settle(QUIET_MS, undefined, { alarms: true });

      const before = await d1Size();
      const orders = Array.from({ length: ORDERS }, () => shopifyOrder());
      startMeter();
      for (const order of orders) {
        expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
        await settle(QUIET_MS, undefined, { alarms: true });
      }
      const usage = stopMeter();
      const d1BytesPerOrder = (Math.max(usage.d1SizeBytes, before) - before) / ORDERS;

      for (const order of orders) {
        const [transfer] = await settledTransfers(world, String(order.id), 1);
        expect(transfer.status, JSON.stringify(transfer)).toBe("completed");
      }
      // What each order leaves in its own object (SQLite file size; kept after the order is done).
      const sizes = await Promise.all(
        orders.map((order) =>
          runInDurableObject(
            env.ORDERS.get(env.ORDERS.idFromName(orderObjectName(world.shopId, String(order.id)))),
            (_o, state) => Number(state.storage.sql.databaseSize),
          ),
        ),
      );
      const objectBytes = sizes.reduce((a, b) => a + b, 0) / ORDERS;
      const webhookBytes = JSON.stringify(orders[0]).length;
      const per = perOrder(usage, ORDERS);
      results.push({
        name: scenario.name,
        tenantId: world.tenantId,
        steps: steps.length,
        usage,
        per,
        d1BytesPerOrder,
        objectBytes,
        webhookBytes,
      });

      // Structural facts, on the totals of the run (per order × ORDERS).
      const total = (n: number) => n * ORDERS;
      const calls = (m: string) => usage.doCalls[m] ?? 0;
      const deferrals = calls("OrderDO.deferStep");
      expect(usage.worker.webhook).toBe(ORDERS);
      expect(calls("InboxDO.acceptEach")).toBe(ORDERS);
      expect(calls("OrderDO.ingest")).toBe(ORDERS);
      // One attempt per step in the happy path; a step the gate defers is dispatched once more.
      // The first step goes through the queue and is claimed; the rest are handed over claimed.
      expect(calls("OrderDO.reportStep")).toBe(total(steps.length));
      expect(calls("OrderDO.claimStep")).toBe(ORDERS + deferrals);
      expect(usage.queue.stepSends).toBe(ORDERS + deferrals);
      expect(usage.queue.delivered).toBe(usage.queue.stepSends);
      expect(usage.queue.acked).toBe(usage.queue.stepSends);
      expect(usage.queue.retried).toBe(0);
      expect(usage.queue.dlqSends).toBe(0);
      expect(calls("TargetGate.release")).toBe(total(scenario.gated));
      expect(calls("TargetGate.acquire")).toBe(total(scenario.gated) + deferrals);
      // One new object per order, its OrderDO (an idle inbox shard may also have been evicted).
      expect(usage.doInstances.OrderDO).toBe(ORDERS);
      // Steps reported within the projection hold ride on the alarm the order's first pump set: one
      // alarm goes off per order (then only housekeeping's is set), not one per kick of the pump.
      if (deferrals === 0) {
        expect(calls("OrderDO.alarm")).toBe(ORDERS);
        expect(usage.doSql.OrderDO?.alarms).toBe(total(2));
      }
      if (scenario.gated > 0) expect(mock.createdInvoiceCount()).toBe(ORDERS + 1);
    });
  }

  // History is deleted again after its retention: those deletes are rows written too.
  let retention: { steps: number; rowsWritten: number; orders: number } | null = null;
  it("counts the rows retention writes when it deletes a three-step order's history", { timeout: 60_000 }, async () => {
    const measured = results.find((r) => r.steps === 3);
    if (!measured) return;
    const everyone = await database(env).select({ id: tenants.id }).from(tenants);
    for (const { id } of everyone) await setRetention(env, id, id === measured.tenantId ? 7 : 36_500);
    startMeter();
    const deleted = await applyRetention(env, Date.now() + 8 * 86_400_000);
    const usage = stopMeter();
    const orders = ORDERS + 1; // the warm-up order's history goes too
    expect(deleted.transfers).toBe(orders);
    const rowsWritten = Object.values(usage.d1).reduce((n, t) => n + t.written, 0);
    retention = { steps: 3, rowsWritten: rowsWritten / orders, orders };
  });

  // Shopify sends an order several webhooks (create, updated, paid, fulfilled): each further one is
  // stored and deduped like the first, whether or not it changes anything.
  let further: PerOrder | null = null;
  it("counts a further webhook of an order that changes nothing material (orders/updated, a note)", {
    timeout: 60_000,
  }, async () => {
    const world = await createWorld();
    await world.flow("paid", ledger(world).slice(0, 1));
    const orders = Array.from({ length: ORDERS }, () => shopifyOrder());
    for (const order of orders) {
      await world.sendShopify("orders/paid", order);
      await settledTransfers(world, String(order.id), 1);
    }
    await settle(QUIET_MS, undefined, { alarms: true });
    startMeter();
    for (const order of orders) {
      const later = { ...order, note: "gift wrap, please", updated_at: new Date(Date.now() + 1000).toISOString() };
      expect((await world.sendShopify("orders/updated", later)).status).toBe(200);
      await settle(QUIET_MS, undefined, { alarms: true });
    }
    const usage = stopMeter();
    further = perOrder(usage, ORDERS);
    // Nothing runs again: no queue message, no transfer written.
    expect(usage.queue.stepSends).toBe(0);
    expect(further.d1RowsWritten).toBe(0);
  });

  afterAll(async () => {
    await restoreResendWindow();
    if (further) {
      const rows: Array<[string, number]> = [
        ["Worker requests", further.workerRequests],
        ["DO requests", further.doRequests],
        ["DO SQLite rows written (incl. setAlarm)", further.doRowsWritten],
        ["  InboxDO", further.doRowsWrittenByClass.InboxDO ?? 0],
        ["  OrderDO", further.doRowsWrittenByClass.OrderDO ?? 0],
        ["D1 rows written", further.d1RowsWritten],
        ["dollars per million such webhooks", priced(further).total!],
      ];
      console.log(
        `\nA further webhook of an order, nothing material changed (mean of ${ORDERS})\n\n${table(rows, ["per webhook", "count"])}\n`,
      );
    }
    if (results.length === 0) return;
    const header = ["per order", ...results.map((r) => r.name)];
    const col = (f: (r: (typeof results)[number]) => number) => results.map(f);
    const counts: Array<[string, ...number[]]> = [
      ["Worker requests: webhook", ...col((r) => r.per.webhooks)],
      ["Worker requests: queue consumer invocations", ...col((r) => r.per.consumerInvocations)],
      ["DO requests (RPC + alarms), total", ...col((r) => r.per.doRequests)],
      ...[
        "InboxDO.acceptEach",
        "InboxDO.alarm",
        "OrderDO.ingest",
        "OrderDO.claimStep",
        "OrderDO.reportStep",
        "OrderDO.deferStep",
        "OrderDO.alarm",
        "TargetGate.acquire",
        "TargetGate.call",
        "TargetGate.release",
        "TargetGate.hold",
        "TargetGate.letGo",
      ].map((m): [string, ...number[]] => [`  ${m}`, ...col((r) => r.per.doCalls[m] ?? 0)]),
      ["DO busy wall time, ms (all objects)", ...col((r) => r.per.doActiveMs)],
      ["DO duration, GB-s (× 128 MB)", ...col((r) => r.per.doGbSeconds)],
      ["DO SQLite rows read", ...col((r) => r.per.doRowsRead)],
      ["DO SQLite rows written (incl. setAlarm)", ...col((r) => r.per.doRowsWritten)],
      ...["InboxDO", "OrderDO", "TargetGate"].map((c): [string, ...number[]] => [
        `  ${c}`,
        ...col((r) => r.per.doRowsWrittenByClass[c] ?? 0),
      ]),
      ["  of which setAlarm() calls", ...col((r) => r.per.alarmsSet)],
      ["Queue messages (steps queue)", ...col((r) => r.per.queueMessages)],
      ["Queue operations (write + read + delete)", ...col((r) => r.per.queueOps)],
      ["D1 round trips", ...col((r) => r.per.d1Calls)],
      ["D1 statements", ...col((r) => r.per.d1Statements)],
      ["D1 rows read", ...col((r) => r.per.d1RowsRead)],
      ["D1 rows written", ...col((r) => r.per.d1RowsWritten)],
      ...["transfers", "transfer_steps", "snapshots", "attempts"].map((t): [string, ...number[]] => [
        `  ${t}`,
        ...col((r) => r.per.d1WrittenByTable[t] ?? 0),
      ]),
      ["  target's own tables (sandbox ledger books)", ...col((r) => r.per.d1WrittenTarget)],
      ["  other", ...col((r) => r.per.d1WrittenOther)],
      ["D1 database growth, KB", ...col((r) => r.d1BytesPerOrder / 1024)],
      ["order object's SQLite size afterwards, KB", ...col((r) => r.objectBytes / 1024)],
      ["(webhook body of the test order, KB)", ...col((r) => r.webhookBytes / 1024)],
      ["R2 Class A", ...col((r) => r.per.r2ClassA)],
      ["R2 Class B", ...col((r) => r.per.r2ClassB)],
    ];
    if (retention)
      counts.push([
        "D1 rows written later by retention's deletes (3 steps)",
        ...col((r) => (r.steps === 3 ? retention!.rowsWritten : Number.NaN)),
      ]);
    const prices = results.map((r) => priced(r.per));
    const money: Array<[string, ...number[]]> = Object.keys(prices[0]!).map((line) => [line, ...prices.map((p) => p[line]!)]);
    const detail = results.find((r) => r.steps === 3) ?? results[0]!;
    const sqlRows = Object.entries(detail.usage.doSqlByStatement)
      .filter(([, v]) => v.written > 0)
      .sort((a, b) => b[1].written - a[1].written)
      .map(([k, v]): [string, number, number] => [k, v.count / ORDERS, v.written / ORDERS]);
    console.log(
      `\nDurable Object SQLite rows written per order, ${detail.name}\n\n${table(sqlRows, ["statement", "statements", "rows written"])}\n`,
    );
    console.log(
      `\nOperations per order (mean of ${ORDERS} orders, idle between orders)\n\n${table(counts, header)}\n\n` +
        `Dollars per million orders (marginal Workers Paid prices)\n\n${table(money, header)}\n`,
    );
  });
});
