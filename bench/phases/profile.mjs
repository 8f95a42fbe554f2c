// CPU profiles of a load, by the Orderly source module that owns each sample (see
// lib/cpu-profile.mjs): the ack path under new orders, and the pipeline under a 3-step burst.
// Profiling slows workerd down, so these runs only give shares; their throughput is not reported.
import { bundleModules, startProfiling, summariseProfiles } from "../lib/cpu-profile.mjs";
import { closedLoop } from "../lib/load.mjs";
import { waitForIdle } from "../lib/proc.mjs";
import { deliveries } from "../lib/shopify-orders.mjs";

const ISOLATES = /^(core:user:|core:entry$|d1:|queues:queue|assets:router|r2:bucket$)/;

/** Runs `work()` under the profiler; resolves to the summary plus work's own `result`. */
export function profiler(orderly, bundlePath) {
  const moduleOf = bundleModules(bundlePath);
  return async (work) => {
    const session = await startProfiling(orderly.mf, ISOLATES);
    const result = await work();
    const summary = summariseProfiles(await session.stop(), { worker: `core:user:${orderly.workerName}`, moduleOf });
    return { ...summary, result };
  };
}

export async function profileIngest({ orderly, bundlePath, seconds, topic, log }) {
  const source = deliveries({
    secret: orderly.secret,
    topic,
    mix: { redelivery: 0, badSignature: 0 },
    firstKey: 9_000_000_000_000,
  });
  const next = () => {
    const d = source.next();
    return { headers: source.headers(d), body: d.body };
  };
  // Only the burst is sampled: the acknowledgements, and whatever hand-off runs beside them. The
  // backlog the inbox hands on after the burst is left out (its cost is in the e2e profile).
  const { result, ...profile } = await profiler(
    orderly,
    bundlePath,
  )(() => closedLoop({ origin: orderly.url, path: orderly.hookPath, concurrency: 32, durationMs: seconds * 1000, next }));
  await waitForIdle(orderly.pids[0], { maxMs: 300_000, idleForMs: 2_500 });
  log(`  profiled ${result.requests} new orders: ${profile.worker?.samples} samples in Orderly's isolate`);
  return profile;
}
