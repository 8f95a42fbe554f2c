// T7: one e-conomic connection whose target accepts 10 requests per second and answers 429 with
// Retry-After above that. Pass: the target never sees more than 11 requests in any 1-s window,
// nothing is dead-lettered, every transfer completes, and the run takes the time the limit allows
// (the target's successful requests / 10 per second, ±15 %): Orderly neither overruns the vendor
// nor leaves its allowance unused.
import { waitUntilFinal } from "../api.mjs";
import { sendPlanned, startWorld } from "../harness.mjs";
import { delivery, orderPayload } from "../shopify.mjs";
import { seconds } from "../util.mjs";

/** The largest number of timestamps in any window of `ms` (timestamps sorted). */
export function maxInWindow(times, ms) {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end] - times[start] >= ms) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

export default async function t7(ctx) {
  const { events, limit = 10 } = ctx.load;
  const started = Date.now();
  const world = await startWorld(ctx, {
    name: "t7",
    vars: ctx.vars,
    shops: 1,
    mock: { ratePerSecond: limit, retryAfterSeconds: 1 },
    flows: (shop) => ({ paid: [{ target: shop.economicId, action: "createInvoice", settings: { invoiceState: "booked" } }] }),
  });
  try {
    const shop = world.shops[0];
    const plan = Array.from({ length: events }, (_, i) => ({
      at: i * 20,
      url: shop.hookUrl,
      delivery: delivery("orders/paid", orderPayload(7_000_001 + i, { version: 3, paid: true }), shop.secret),
    }));
    ctx.log(`  T7: ${events} orders at once to one connection; the target allows ${limit} requests/s`);
    const sent = await sendPlanned(plan, { concurrency: 32 });
    const settled = await waitUntilFinal(world.api, events, {
      boundMs: ctx.settleBoundMs,
      onProgress: (p) =>
        ctx.log(`    settling: ${p.transfers - p.open}/${p.expected} done, ${world.target.stats.requests} target requests`),
    });
    const arrivals = [...world.target.arrivals].sort((a, b) => a - b);
    const peak = maxInWindow(arrivals, 1000);
    const limited = world.target.stats.limited429;
    const served = arrivals.length - limited;
    const spanMs = arrivals.length ? arrivals.at(-1) - arrivals[0] : 0;
    const expectedMs = (served / limit) * 1000;
    const ratio = expectedMs ? spanMs / expectedMs : 0;
    const completed = settled.list.filter((t) => t.status === "completed").length;
    const dlq = Number(world.worker.d1("SELECT COUNT(*) AS n FROM dead_letters")[0]?.n ?? 0);
    const perStep = completed ? served / completed : 0;
    const misses = [];
    if (sent.results.some((r) => r.status !== 200)) misses.push("some deliveries not acknowledged");
    if (peak > limit + 1) misses.push(`peak ${peak} requests in a 1-s window (limit ${limit}, allowed ${limit + 1})`);
    if (dlq > 0) misses.push(`${dlq} dead letters`);
    if (completed !== events) misses.push(`${completed}/${events} completed`);
    if (Math.abs(ratio - 1) > 0.15)
      misses.push(
        `took ${seconds(spanMs)} s at the target, expected ${seconds(expectedMs)} s ±15 % (${(served / (spanMs / 1000)).toFixed(1)} req/s of ${limit})`,
      );
    const pass = misses.length === 0;
    const figures = {
      pass,
      misses,
      events,
      limit,
      peak,
      limited429: limited,
      served,
      perStep,
      spanMs,
      expectedMs,
      ratio,
      completed,
      dlq,
      avgRate: spanMs ? served / (spanMs / 1000) : 0,
    };
    const line = [
      "T7 backpressure:",
      `orders=${events} limit=${limit}/s target-requests=${arrivals.length} (${served} served, ${limited} answered 429, ${perStep.toFixed(1)} per step)`,
      `peak=${peak} in a 1-s window avg=${figures.avgRate.toFixed(1)}/s`,
      `span=${seconds(spanMs)}s expected=${seconds(expectedMs)}s (×${ratio.toFixed(2)})`,
      `transfers=${completed}/${events} completed dlq=${dlq}`,
      `total=${seconds(Date.now() - started)}s`,
      pass ? "PASS" : `FAIL (${misses.join("; ")})`,
    ].join(" ");
    return { ...figures, line, durationMs: Date.now() - started };
  } finally {
    await world.stop();
  }
}
