// T4: 1 % of orders carry a line e-conomic refuses (a permanent 400). Pass: exactly those
// transfers end failed with e-conomic's reason and reach the dead letters (D1 dead_letters), the
// others complete; then the mock is "fixed" and a bulk replay (POST /api/v1/transfers/retry)
// completes every one of them with exactly one invoice each, and no other order gets a second.
import { waitUntilFinal } from "../api.mjs";
import { expectedEffects, tallyEffects } from "../effects.mjs";
import { sendPlanned, startWorld } from "../harness.mjs";
import { delivery, orderPayload } from "../shopify.mjs";
import { seconds } from "../util.mjs";

const MARKER = "Barred item";
const EFFECTS = {
  paid: [
    { kind: "draft", step: 0 },
    { kind: "book", step: 0 },
  ],
};

export default async function t4(ctx) {
  const { orders, shops, poison = 0.01, rate = 10 } = ctx.load;
  const started = Date.now();
  const world = await startWorld(ctx, {
    name: "t4",
    vars: ctx.vars,
    shops,
    flows: (shop) => ({ paid: [{ target: shop.economicId, action: "createInvoice", settings: { invoiceState: "booked" } }] }),
  });
  try {
    const firstOrderId = 4_000_001;
    const ids = Array.from({ length: orders }, (_, i) => firstOrderId + i);
    const poisonCount = Math.max(3, Math.round(orders * poison));
    const poisoned = new Set();
    while (poisoned.size < poisonCount) poisoned.add(ids[Math.floor(ctx.random() * ids.length)]);
    world.target.reject([MARKER]);
    const plan = ids.map((orderId, i) => {
      const shop = world.shops[i % world.shops.length];
      const title = poisoned.has(orderId) ? `${MARKER} ${orderId}` : "T-shirt";
      return {
        at: (i / rate) * 1000,
        url: shop.hookUrl,
        delivery: delivery("orders/paid", orderPayload(orderId, { version: 3, paid: true, title }), shop.secret),
        orderId,
      };
    });
    ctx.log(`  T4: ${orders} paid orders, ${poisonCount} refused by the target with a permanent 400`);
    const sent = await sendPlanned(plan, { concurrency: 32 });
    const acked = sent.results.filter((r) => r.status === 200).length;
    const first = await waitUntilFinal(world.api, orders, { boundMs: ctx.settleBoundMs });
    const failed = first.list.filter((t) => t.status === "failed");
    const failedOrders = new Set(failed.map((t) => Number(t.orderId)));
    const misses = [];
    const wrongFailures =
      [...failedOrders].filter((id) => !poisoned.has(id)).length + [...poisoned].filter((id) => !failedOrders.has(id)).length;
    const withReason = failed.filter((t) => /e-conomic rejected POST \/invoices\/drafts/.test(t.errorReason ?? "")).length;
    const dead = world.worker.d1("SELECT transfer_id AS id, reason FROM dead_letters");
    const deadForPoison = dead.filter((d) => failed.some((t) => t.id === d.id) && /rejected/.test(d.reason)).length;
    const alerts = safeCount(world.worker, "SELECT COUNT(*) AS n FROM mail_outbox WHERE idempotency_key LIKE 'alert/%'");
    const beforeReplay = world.target.effects.length;

    // The fix, then the bulk replay of every failed transfer, page by page.
    world.target.clearRejects();
    const replayStarted = Date.now();
    let queued = 0;
    let cursor;
    do {
      const page = await world.api.bulkRetry({ status: "failed", limit: 100, ...(cursor ? { cursor } : {}) });
      queued += page.queued;
      cursor = page.nextCursor;
    } while (cursor);
    // A replay of a handful of transfers takes seconds; two minutes is a generous bound.
    const second = await waitUntilFinal(world.api, orders, { boundMs: Math.min(ctx.settleBoundMs, 120_000) });
    const replayMs = Date.now() - replayStarted;
    const tally = tallyEffects(
      world.target.effects,
      expectedEffects(second.list, EFFECTS, (id) => [`customer:buyer-${id}@chaos.example`]),
      ids,
    );
    const completed = second.list.filter((t) => t.status === "completed").length;
    if (acked !== plan.length) misses.push(`${plan.length - acked} deliveries not acknowledged`);
    if (!first.settled || !second.settled) misses.push("transfers not final in time");
    if (wrongFailures > 0) misses.push(`${wrongFailures} orders failed that were not refused, or refused and not failed`);
    if (withReason !== poisonCount) misses.push(`${withReason}/${poisonCount} failures carry e-conomic's reason`);
    if (deadForPoison !== poisonCount)
      misses.push(`${deadForPoison}/${poisonCount} refused transfers in dead_letters with the reason`);
    if (queued !== poisonCount) misses.push(`bulk replay queued ${queued}, expected ${poisonCount}`);
    if (completed !== orders) misses.push(`${completed}/${orders} completed after the replay`);
    if (tally.duplicated.length || tally.missing.length || tally.unexpected.length)
      misses.push(`effects: ${[...tally.duplicated, ...tally.missing, ...tally.unexpected].slice(0, 5).join(", ")}`);
    const pass = misses.length === 0;
    const figures = {
      pass,
      misses,
      orders,
      poison: poisonCount,
      failed: failed.length,
      withReason,
      deadLetters: dead.length,
      deadForPoison,
      alertEmails: alerts,
      replayQueued: queued,
      completedAfterReplay: completed,
      effects: tally.applied,
      expectedEffects: tally.expected,
      effectsByReplay: world.target.effects.length - beforeReplay,
      duplicated: tally.duplicated.length,
      lost: tally.lost,
      replayMs,
      sample: failed[0]?.errorReason ?? null,
    };
    const line = [
      "T4 poison:",
      `orders=${orders} refused=${poisonCount} failed=${failed.length} (with e-conomic's reason ${withReason})`,
      `dead-letters=${deadForPoison}/${poisonCount} alert-emails=${alerts ?? "n/a"}`,
      `bulk-replay queued=${queued} → completed=${completed}/${orders} in ${seconds(replayMs)}s`,
      `effects=${tally.applied}/${tally.expected} duplicated=${tally.duplicated.length} lost=${tally.lost}`,
      `total=${seconds(Date.now() - started)}s`,
      pass ? "PASS" : `FAIL (${misses.join("; ")})`,
    ].join(" ");
    return { ...figures, line, durationMs: Date.now() - started };
  } finally {
    await world.stop();
  }
}

function safeCount(worker, sql) {
  try {
    return Number(worker.d1(sql)[0]?.n ?? 0);
  } catch {
    return null;
  }
}
