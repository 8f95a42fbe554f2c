// End to end: a paid order's webhook → its acknowledgement → the draft invoice each createInvoice
// step makes at the mock e-conomic API. Orders go round-robin over lanes (a Shopify source with
// its own flow); each step's target is its own e-conomic connection (its own mock agreement), so
// the per-connection vendor limit the target gate enforces is not what is measured, unless a
// scenario says so (the vendor-bound one uses a single lane on purpose).
import { closedLoop, openLoop } from "../lib/load.mjs";
import { createEconomicConnections, createLanes } from "../lib/orderly-api.mjs";
import { cpuMs, ioWrites, loadAverages, waitForIdle } from "../lib/proc.mjs";
import { MIX } from "../lib/settings.mjs";
import { deliveries } from "../lib/shopify-orders.mjs";
import { latencySummary } from "../lib/stats.mjs";

const now = () => performance.timeOrigin + performance.now();
let nextKeyBase = 6_000_000_000_000;

/** Lanes of `steps` createInvoice steps, each step on its own e-conomic connection. */
export async function setUpLanes({ orderly, server, lanes, steps, label, firstInstance }) {
  const urls = Array.from({ length: lanes * steps }, (_, i) => server.baseUrl(firstInstance + i));
  const targets = await createEconomicConnections(orderly, urls);
  const laneTargets = Array.from({ length: lanes }, (_, l) => targets.slice(l * steps, (l + 1) * steps));
  return { lanes: await createLanes(orderly, laneTargets, label), instances: urls.length };
}

/** Sends orders over the lanes (a burst of `orders` requests, or `rate`/s for `seconds`) and waits for every effect. */
export async function runScenario({ orderly, server, lanes, name, orders, rate, seconds, concurrency = 16, drainSeconds, log }) {
  const sources = lanes.map((lane, i) => {
    const source = deliveries({ secret: lane.secret, topic: "orders/paid", mix: MIX, seed: 100 + i, firstKey: nextKeyBase });
    nextKeyBase += 1_000_000;
    return { lane, source };
  });
  let turn = 0;
  const next = () => {
    const { lane, source } = sources[turn++ % sources.length];
    const d = source.next();
    return { path: lane.hookPath, headers: source.headers(d), body: d.body, kind: d.kind, key: String(d.key), steps: lane.steps };
  };
  const acks = new Map();
  const ackProblems = { doubleAccept: 0, failedNew: 0 };
  const onResponse = (request, answer) => {
    if (answer.status !== 200) {
      if (request.kind !== "bad-signature") ackProblems.failedNew++;
      return;
    }
    const accepted = JSON.parse(answer.text).accepted === 1;
    if (!accepted) return;
    if (acks.has(request.key)) ackProblems.doubleAccept++;
    else acks.set(request.key, { at: performance.timeOrigin + answer.ended, steps: request.steps });
  };

  await server.takeEffects();
  await server.reset();
  const load = loadAverages();
  const pid = orderly.pids[0];
  const cpuBefore = cpuMs(pid);
  const ioBefore = ioWrites(pid).bytes;
  const origin = orderly.url;
  const ingest =
    rate === undefined
      ? await closedLoop({ origin, path: lanes[0].hookPath, concurrency, count: orders, next, onResponse })
      : await openLoop({ origin, path: lanes[0].hookPath, rate, durationMs: seconds * 1000, next, onResponse });
  const sendEnded = now();

  const expected = [...acks.values()].reduce((sum, a) => sum + a.steps, 0);
  const seen = new Map();
  const effects = [];
  let duplicates = 0;
  let unknown = 0;
  while (now() - sendEnded < drainSeconds * 1000) {
    for (const [instance, at, key, step] of await server.takeEffects()) {
      const id = `${key}#${step}`;
      if (!acks.has(key)) unknown++;
      if (seen.has(id)) duplicates++;
      else seen.set(id, at);
      effects.push({ instance, at, key, step });
    }
    if (seen.size - unknown >= expected) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const drainedMs = Math.round(now() - sendEnded);
  // Whatever is still running (projections, alarms) belongs to these orders too.
  await waitForIdle(pid, { maxMs: 20_000 });
  const workerdCpuMs = cpuMs(pid) - cpuBefore;
  const workerdWriteKiB = (ioWrites(pid).bytes - ioBefore) / 1024;
  const mock = await server.stats();
  return summarise({
    name,
    acks,
    seen,
    effects,
    expected,
    duplicates,
    unknown,
    ackProblems,
    ingest,
    drainedMs,
    load,
    mock,
    workerdCpuMs,
    workerdWriteKiB,
    log,
  });
}

function summarise({
  name,
  acks,
  seen,
  effects,
  expected,
  duplicates,
  unknown,
  ackProblems,
  ingest,
  drainedMs,
  load,
  mock,
  workerdCpuMs,
  workerdWriteKiB,
  log,
}) {
  const firstEffect = [];
  const lastEffect = [];
  const eachEffect = [];
  let completed = 0;
  let missing = 0;
  for (const [key, ack] of acks) {
    const times = [];
    for (let step = 0; step < ack.steps; step++) {
      const at = seen.get(`${key}#${step}`);
      if (at === undefined) missing++;
      else times.push(at - ack.at);
    }
    eachEffect.push(...times);
    if (times.length > 0) firstEffect.push(Math.min(...times));
    if (times.length === ack.steps) {
      completed++;
      lastEffect.push(Math.max(...times));
    }
  }
  const ackTimes = [...acks.values()].map((a) => a.at);
  const effectTimes = effects.map((e) => e.at);
  const windowMs = effectTimes.length && ackTimes.length ? Math.max(...effectTimes) - Math.min(...ackTimes) : null;
  const perSecond = (n) => (windowMs ? Math.round((n / (windowMs / 1000)) * 10) / 10 : null);
  const result = {
    name,
    ordersAccepted: acks.size,
    expectedEffects: expected,
    effects: effects.length,
    duplicates,
    misses: missing,
    unknownEffects: unknown,
    ackProblems,
    effectsPerSecond: perSecond(seen.size),
    ordersCompletedPerSecond: perSecond(completed),
    windowMs: windowMs === null ? null : Math.round(windowMs),
    // Everything workerd did for these orders (ingest included), per order and per effect.
    workerdCpuMsPerOrder: acks.size ? Math.round((workerdCpuMs / acks.size) * 100) / 100 : null,
    workerdCpuMsPerEffect: seen.size ? Math.round((workerdCpuMs / seen.size) * 100) / 100 : null,
    workerdWriteKiBPerOrder: acks.size ? Math.round((workerdWriteKiB / acks.size) * 10) / 10 : null,
    latencyAckToEffectMs: latencySummary(eachEffect),
    latencyAckToFirstEffectMs: latencySummary(firstEffect),
    latencyAckToLastEffectMs: latencySummary(lastEffect),
    ingest,
    drainedMs,
    mock,
    loadAverage: load,
  };
  log(
    `  e2e ${name}: ${result.ordersAccepted} orders, ${result.effects}/${expected} effects, ${result.effectsPerSecond} effects/s, ` +
      `ack→last effect p50 ${result.latencyAckToLastEffectMs.p50} ms p99 ${result.latencyAckToLastEffectMs.p99} ms, ` +
      `duplicates ${duplicates}, misses ${missing}, ${result.workerdCpuMsPerOrder} ms workerd CPU/order, ` +
      `busiest connection ${mock.busiestSecondPerInstance} req/s`,
  );
  return result;
}

/** The scenarios of the profile; `profiled(work)`, when given, profiles one more 3-step burst. */
export async function runE2e({ orderly, server, profile, profiled, log }) {
  const scenarios = [];
  const lanesBySteps = {};
  let firstInstance = 0;
  for (const steps of [1, 3, 5]) {
    const { lanes, instances } = await setUpLanes({
      orderly,
      server,
      lanes: profile.lanes,
      steps,
      label: `s${steps}`,
      firstInstance,
    });
    firstInstance += instances;
    lanesBySteps[steps] = lanes;
    // A connection's first step creates its gate object and loads the connection into the
    // isolate's cache: once in a connection's life in production (its gate then wakes from storage
    // that exists). With a new connection per lane and step and about two orders per lane, the
    // burst would pay that for half its steps, so the lanes' first orders are a run of their own,
    // reported apart and left out of the targets and the cost model.
    const first = profile.firstOrderPerLane
      ? await runScenario({
          orderly,
          server,
          lanes,
          name: `${steps}-step, first order of each lane (new connections)`,
          orders: lanes.length,
          drainSeconds: profile.drainSeconds,
          log,
        })
      : null;
    const burst = await runScenario({
      orderly,
      server,
      lanes,
      name: `${steps}-step burst`,
      orders: profile.burst[steps],
      drainSeconds: profile.drainSeconds,
      log,
    });
    const runs = [...(first ? [{ mode: "first", ...first }] : []), { mode: "burst", ...burst }];
    if (profile.pacedSeconds > 0 && burst.ordersCompletedPerSecond) {
      // Below the burst's completion rate, latency shows the pipeline without a growing backlog.
      const rate = Math.max(1, Math.round(burst.ordersCompletedPerSecond * 0.6));
      const paced = await runScenario({
        orderly,
        server,
        lanes,
        name: `${steps}-step paced ${rate}/s`,
        rate,
        seconds: profile.pacedSeconds,
        drainSeconds: profile.drainSeconds,
        log,
      });
      runs.push({ mode: "paced", offeredOrdersPerSecond: rate, ...paced });
    }
    scenarios.push({ steps, lanes: lanes.length, connections: instances, runs });
  }
  if (profile.vendorBound) {
    const { orders, steps } = profile.vendorBound;
    const { lanes } = await setUpLanes({ orderly, server, lanes: 1, steps, label: "vendor", firstInstance });
    const bound = await runScenario({
      orderly,
      server,
      lanes,
      name: `${steps}-step, one lane (declared limit 10 req/s per connection)`,
      orders,
      concurrency: 4,
      drainSeconds: profile.drainSeconds,
      log,
    });
    scenarios.push({ steps, lanes: 1, connections: steps, vendorBound: true, runs: [{ mode: "burst", ...bound }] });
  }
  let cpuProfile = null;
  if (profiled && profile.profileOrders) {
    // The 3-step lanes' objects were evicted while the other scenarios ran: one order per lane
    // wakes them first, so the profile shows steps, not objects opening (as the burst above).
    if (profile.firstOrderPerLane) {
      await runScenario({
        orderly,
        server,
        lanes: lanesBySteps[3],
        name: "3-step, one order per lane before the profile",
        orders: lanesBySteps[3].length,
        drainSeconds: profile.drainSeconds,
        log,
      });
    }
    const { result, ...shares } = await profiled(() =>
      runScenario({
        orderly,
        server,
        lanes: lanesBySteps[3],
        name: "3-step burst (profiled)",
        orders: profile.profileOrders,
        drainSeconds: profile.drainSeconds,
        log,
      }),
    );
    cpuProfile = { orders: result.ordersAccepted, effects: result.effects, ...shares };
  }
  return { scenarios, costModel: costModel(scenarios), cpuProfile };
}

/**
 * workerd CPU per order = perOrder + steps × perStep, fitted (least squares) to the burst runs of
 * 1, 3 and 5 steps: the fixed cost of an order (ingest, its object, planning) against the cost of
 * each step (queue, gate, claim, three calls, snapshots, report, projection).
 */
function costModel(scenarios) {
  const points = scenarios
    .filter((s) => !s.vendorBound)
    .map((s) => [s.steps, s.runs.find((r) => r.mode === "burst")?.workerdCpuMsPerOrder])
    .filter(([, y]) => y);
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const perStep = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const perOrder = my - perStep * mx;
  const round = (v) => Math.round(v * 100) / 100;
  return {
    perOrderMs: round(perOrder),
    perStepMs: round(perStep),
    points,
    // One workerd thread runs all of it locally: the most effects it could make per second of CPU.
    ceilingEffectsPerSecond: Object.fromEntries([1, 3, 5].map((k) => [k, Math.round((1000 * k) / (perOrder + k * perStep))])),
  };
}
