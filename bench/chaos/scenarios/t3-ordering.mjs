// T3: M orders × 6 versioned events (create, updated, paid, updated, fulfilled, updated; each
// version changes the T-shirt quantity, so each is a material change), sent shuffled with 0–2 s
// jitter and 20 % duplicates. Pass: every order ends at its newest version at both targets, no
// target write ever carries an older version than one written before, the transfer log's
// canonical snapshots never go back, and each stage's transfer exists once, in ladder order.
import { FINAL, waitUntilFinal } from "../api.mjs";
import { stepReference } from "../effects.mjs";
import { sendPlanned, startWorld } from "../harness.mjs";
import { delivery, orderPayload } from "../shopify.mjs";
import { pool, seconds } from "../util.mjs";

const VERSIONS = [
  ["orders/create", {}],
  ["orders/updated", {}],
  ["orders/paid", { paid: true }],
  ["orders/updated", { paid: true }],
  ["orders/fulfilled", { paid: true, fulfilled: true }],
  ["orders/updated", { paid: true, fulfilled: true }],
];
/** Gross of the order at a version: one T-shirt (199.00) per version number, plus 50.00 shipping. */
const totalAt = (version) => 19900 * version + 5000;

export default async function t3(ctx) {
  const { orders, shops, rate = 6, events = 6 } = ctx.load;
  const started = Date.now();
  const world = await startWorld(ctx, {
    name: "t3",
    vars: ctx.vars,
    shops,
    ledger: true,
    flows: (shop) => ({
      created: [{ target: shop.economicId, action: "createInvoice", settings: { invoiceState: "draft" } }],
      fulfilled: [{ target: shop.ledgerId, action: "createInvoice", settings: { invoiceState: "draft" } }],
    }),
  });
  try {
    const firstOrderId = 3_000_001;
    const windowMs = ((orders * events) / rate) * 1000;
    const plan = [];
    for (let i = 0; i < orders; i++) {
      const shop = world.shops[i % world.shops.length];
      const orderId = firstOrderId + i;
      const base = (i / orders) * windowMs;
      VERSIONS.slice(0, events).forEach(([topic, flags], v) => {
        const version = v + 1;
        const d = delivery(topic, orderPayload(orderId, { version, quantity: version, ...flags }), shop.secret);
        const at = base + ctx.random() * 2000;
        plan.push({ at, url: shop.hookUrl, delivery: d, orderId, version });
        if (ctx.random() < 0.2)
          plan.push({ at: base + ctx.random() * 2500, url: shop.hookUrl, delivery: d, orderId, version, duplicate: true });
      });
    }
    const inOrder = plan.filter((p) => !p.duplicate).length;
    ctx.log(
      `  T3: ${orders} orders × ${events} versions, ${plan.length} deliveries (shuffled, 0–2 s jitter) in ~${seconds(windowMs)} s`,
    );
    const sent = await sendPlanned(plan, { concurrency: 32 });
    const acked = sent.results.filter((r) => r.status === 200).length;
    // Each order: the created transfer (e-conomic) and the fulfilled one (ledger).
    const settled = await waitUntilFinal(world.api, orders * 2, {
      boundMs: ctx.settleBoundMs,
      onProgress: (p) => ctx.log(`    settling: ${p.transfers}/${p.expected} transfers, ${p.open} open`),
    });
    const transfers = settled.list;
    const misses = [];
    const newest = events;
    // The e-conomic side: per created transfer, the quantities its draft was written with.
    const writes = new Map();
    for (const e of world.target.effects) {
      if ((e.kind === "draft" || e.kind === "update") && e.quantity !== undefined) {
        if (!writes.has(e.key)) writes.set(e.key, []);
        writes.get(e.key).push(e);
      }
    }
    let staleWrites = 0;
    let notNewest = 0;
    let drafts = 0;
    let backwards = 0;
    let stageOrder = 0;
    const byOrder = new Map();
    for (const t of transfers) byOrder.set(t.orderId, [...(byOrder.get(t.orderId) ?? []), t]);
    for (let i = 0; i < orders; i++) {
      const orderId = String(firstOrderId + i);
      const mine = byOrder.get(orderId) ?? [];
      const created = mine.filter((t) => t.stage === "created");
      const fulfilled = mine.filter((t) => t.stage === "fulfilled");
      if (created.length !== 1 || fulfilled.length !== 1 || mine.length !== 2) {
        stageOrder++;
        continue;
      }
      if (created[0].createdAt > fulfilled[0].createdAt) stageOrder++;
      const list = (writes.get(stepReference(created[0].id, 0)) ?? []).sort((a, b) => a.at - b.at);
      drafts += list.filter((e) => e.kind === "draft").length;
      for (let k = 1; k < list.length; k++) if (list[k].quantity < list[k - 1].quantity) staleWrites++;
      if (list.at(-1)?.quantity !== newest) notNewest++;
    }
    // The transfer log: canonical snapshots of each transfer never go back to an older version.
    await pool(transfers, 8, async (t) => {
      const detail = await world.api.transfer(t.id);
      const versions = detail.snapshots.filter((s) => s.kind === "canonical").map((s) => s.data.order.source.version);
      for (let k = 1; k < versions.length; k++) if (versions[k] < versions[k - 1]) backwards++;
    });
    // The sandbox ledger: one invoice per order, at the newest total.
    const ledger = world.worker.d1("SELECT order_number AS n, total, COUNT(*) AS c FROM ledger_invoices GROUP BY order_number");
    const ledgerNewest = ledger.filter((r) => r.total === totalAt(newest) && r.c === 1).length;
    const completed = transfers.filter((t) => t.status === "completed").length;
    if (acked !== plan.length) misses.push(`${plan.length - acked} deliveries not acknowledged`);
    if (!settled.settled) misses.push(`transfers not final within ${seconds(ctx.settleBoundMs)} s`);
    if (completed !== orders * 2) misses.push(`${completed}/${orders * 2} transfers completed`);
    if (notNewest > 0) misses.push(`${notNewest} e-conomic drafts not at the newest version`);
    if (staleWrites > 0) misses.push(`${staleWrites} e-conomic writes older than one before them`);
    if (drafts !== orders) misses.push(`${drafts} e-conomic drafts created for ${orders} orders`);
    if (ledgerNewest !== orders) misses.push(`${ledgerNewest}/${orders} ledger invoices at the newest total`);
    if (backwards > 0) misses.push(`${backwards} canonical snapshots older than the one before`);
    if (stageOrder > 0) misses.push(`${stageOrder} orders whose stage transfers are missing, doubled or out of ladder order`);
    for (const t of transfers.filter((x) => FINAL.has(x.status) && x.status === "failed").slice(0, 3))
      misses.push(`failed ${t.id} (${t.stage}): ${t.errorReason}`);
    const pass = misses.length === 0;
    const figures = {
      pass,
      misses,
      orders,
      versions: events,
      deliveries: inOrder,
      duplicates: plan.length - inOrder,
      transfers: transfers.length,
      completed,
      newestAtEconomic: orders - notNewest,
      newestAtLedger: ledgerNewest,
      staleWrites,
      economicWrites: [...writes.values()].reduce((n, l) => n + l.length, 0),
      backwards,
      stageOrder,
      sendMs: sent.ms,
      settleMs: settled.ms,
    };
    const line = [
      "T3 ordering:",
      `orders=${orders} versions=${events} deliveries=${inOrder}+${figures.duplicates} duplicates (shuffled, 0–2 s jitter)`,
      `transfers=${completed}/${transfers.length} completed`,
      `newest state: e-conomic ${figures.newestAtEconomic}/${orders} ledger ${ledgerNewest}/${orders}`,
      `e-conomic writes=${figures.economicWrites} stale-applied=${staleWrites} snapshots-backwards=${backwards} stage-order-misses=${stageOrder}`,
      `send=${seconds(sent.ms)}s settle=${seconds(settled.ms)}s total=${seconds(Date.now() - started)}s`,
      pass ? "PASS" : `FAIL (${misses.join("; ")})`,
    ].join(" ");
    return { ...figures, line, durationMs: Date.now() - started };
  } finally {
    await world.stop();
  }
}
