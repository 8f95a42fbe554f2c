// Where the acknowledgement's cost goes, measured from outside: the same concurrency against
// request classes that stop at successive points of the ack path, with the workerd process's CPU
// time per request (from /proc, including the work each class leaves running after its answer,
// which is why each class waits for workerd to go idle). The difference between two classes is
// the cost of the stage between them:
//   health        routing and the HTTP exchange (GET /health)
//   bad signature + reading the body, loading the source connection, the HMAC check (401)
//   re-delivery   + parsing and validating the order, the Durable Object RPC and its dedupe read
//   known order   + storing a new event of an order whose object exists, and handing it on
//   new order     + creating that order's object (its SQLite database and schema) on the way
import { randomUUID } from "node:crypto";
import { measuredCell } from "../lib/cell.mjs";
import { deliveries } from "../lib/shopify-orders.mjs";

const NO_MIX = { redelivery: 0, badSignature: 0 };
const round3 = (v) => (v === null ? null : Math.round(v * 1000) / 1000);

export async function runSpans({ orderly, baseline, profile, topic, log }) {
  const { concurrency, seconds } = profile;
  const run = async (target, name, next) => {
    // Orderly's classes wait out the eviction of the objects they touched (see lib/cell.mjs).
    const settleMs = target === orderly ? (profile.settleSeconds ?? 0) * 1000 : 0;
    const result = await measuredCell(target, { concurrency, seconds, next, settleMs });
    log(
      `  span ${name.padEnd(14)}: ${result.throughput} req/s, p50 ${result.latencyMs.p50} ms, ` +
        `${result.workerdCpuMsPerRequest} ms workerd CPU/request, statuses ${JSON.stringify(result.statuses)}`,
    );
    return { name, ...result };
  };
  const baseSource = deliveries({ secret: baseline.secret, topic, mix: NO_MIX, seed: 8, firstKey: 8_000_000_000_000 });
  const source = deliveries({ secret: orderly.secret, topic, mix: NO_MIX, seed: 7, firstKey: 7_000_000_000_000 });
  const stored = [];
  const classes = [];
  classes.push(
    await run(baseline, "baseline HMAC", () => {
      const d = baseSource.next();
      return { headers: baseSource.headers(d), body: d.body };
    }),
  );
  classes.push(await run(orderly, "health", () => ({ method: "GET", path: "/health" })));
  classes.push(
    await run(orderly, "bad signature", () => {
      const d = source.next();
      const wrong = `${d.signature[0] === "A" ? "B" : "A"}${d.signature.slice(1)}`;
      return { headers: { ...source.headers(d), "x-shopify-hmac-sha256": wrong }, body: d.body };
    }),
  );
  classes.push(
    await run(orderly, "new order", () => {
      const d = source.next();
      if (stored.length < 50_000) stored.push(d);
      return { headers: source.headers(d), body: d.body };
    }),
  );
  let i = 0;
  let j = 0;
  classes.push(
    await run(orderly, "known order", () => {
      // The same order again under new delivery and event ids: stored as a new event of an existing object.
      const d = { ...stored[j++ % stored.length], webhookId: randomUUID(), eventId: randomUUID() };
      return { headers: source.headers(d), body: d.body };
    }),
  );
  classes.push(
    await run(orderly, "re-delivery", () => {
      // Spread over the orders just stored, so re-deliveries hit many objects, not one.
      const d = stored[i++ % stored.length];
      return { headers: source.headers(d), body: d.body };
    }),
  );
  return { concurrency, classes, stages: stages(classes) };
}

/** Each stage's CPU per request (difference of two classes) and its share of the new-order path. */
function stages(classes) {
  const cpu = (name) => classes.find((c) => c.name === name)?.workerdCpuMsPerRequest ?? null;
  const full = cpu("new order");
  return [
    ["HTTP exchange + routing", "health", null],
    ["body + connection + HMAC check", "bad signature", "health"],
    ["parse + Durable Object RPC + dedupe read", "re-delivery", "bad signature"],
    ["store the event + hand it to an existing order object", "known order", "re-delivery"],
    ["create the order's object (fresh SQLite database + schema)", "new order", "known order"],
  ].map(([stage, upper, lower]) => {
    const ms = cpu(upper) === null || (lower && cpu(lower) === null) ? null : cpu(upper) - (lower ? cpu(lower) : 0);
    return { stage, cpuMsPerRequest: round3(ms), share: ms !== null && full ? round3(ms / full) : null };
  });
}
