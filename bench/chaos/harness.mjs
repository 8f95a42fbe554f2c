// What every scenario sets up: the mock target, a fresh Worker on its own persisted state, the
// seeded demo tenant, K Shopify shops each with its own e-conomic connection (a gate each, as K
// merchants would have), and a paced sender for the deliveries.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { apiClient } from "./api.mjs";
import { startMockTarget } from "./mock-target.ts";
import { send } from "./shopify.mjs";
import { sleep } from "./util.mjs";
import { createWorker } from "./worker-process.mjs";

/**
 * The compressed schedule every scenario runs with unless it says otherwise. The re-send window
 * is 20 s, not 5: the local queue's own latency is not compressed, and under load a released step
 * can wait in it longer than 5 s; each early re-send is one more message in that backlog (before
 * re-sends were spaced out exponentially, 6 of them failed a step that was only queued:
 * step_lost). `--set vars.STEP_RESEND_AFTER_SECONDS=5` runs with 5.
 */
export const COMPRESSED_VARS = {
  RETRY_BASE_SECONDS: "1",
  RETRY_MAX_SECONDS: "4",
  STEP_RESEND_AFTER_SECONDS: "20",
  OUTBOUND_TIMEOUT_MS: "1000",
  CIRCUIT_COOLDOWN_SECONDS: "1",
};

export async function startWorld(ctx, { name, vars = {}, shops = 1, mock = {}, flows, ledger = false }) {
  const target = await startMockTarget({
    seed: ctx.seed,
    hangMs: Number(vars.OUTBOUND_TIMEOUT_MS ?? COMPRESSED_VARS.OUTBOUND_TIMEOUT_MS) + 500,
    products: [{ productNumber: "TS-1", name: "T-shirt", productGroup: { productGroupNumber: 1 } }],
    ...mock,
  });
  const worker = await createWorker({
    config: ctx.config,
    dir: join(ctx.workDir, name),
    // The mock target listens on http://127.0.0.1, which production refuses as a base URL.
    vars: { ...COMPRESSED_VARS, ALLOW_PRIVATE_BASE_URLS: "true", ...vars },
    log: (line) => ctx.log(`  [${name}] ${line}`),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await worker.stop();
    await target.close();
  };
  try {
    await worker.start();
    const seed = await worker.seed(randomBytes(16).toString("hex"));
    const api = apiClient(worker.url, seed.apiToken);
    // The demo flow (paid → sandbox ledger) belongs to the demo shop; chaos shops have their own.
    const list = [];
    for (let i = 0; i < shops; i++) {
      const secret = randomBytes(24).toString("hex");
      const shop = await api.shop(`Chaos shop ${i + 1}`, secret);
      const economic = await api.economic(`e-conomic ${i + 1}`, target.url);
      const entry = { id: shop.id, secret, economicId: economic.id, hookUrl: `${worker.url}/hooks/${shop.id}`, flows: {} };
      if (ledger) entry.ledgerId = (await api.ledger(`Sandbox ledger ${i + 1}`)).id;
      for (const [stage, steps] of Object.entries(flows ? flows(entry) : {}))
        entry.flows[stage] = (await api.flow(shop.id, stage, steps)).id;
      list.push(entry);
    }
    return { worker, target, api, seed, shops: list, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Sends each planned delivery at its time offset (ms from now), at most `concurrency` at once,
 * retrying like a sender until answered; returns one result per plan entry.
 */
export async function sendPlanned(plan, { concurrency = 32, sendOptions = {}, onResult } = {}) {
  const sorted = plan.map((p, i) => ({ ...p, i })).sort((a, b) => a.at - b.at);
  const results = new Array(plan.length);
  const started = Date.now();
  let active = 0;
  const waiters = [];
  const acquire = async () => {
    while (active >= concurrency) await new Promise((r) => waiters.push(r));
    active++;
  };
  const release = () => {
    active--;
    waiters.shift()?.();
  };
  const running = [];
  for (const p of sorted) {
    const wait = started + p.at - Date.now();
    if (wait > 0) await sleep(wait);
    await acquire();
    running.push(
      (async () => {
        try {
          const sentAt = Date.now();
          const res = await send(p.url, p.delivery, sendOptions);
          results[p.i] = { ...res, sentAt, lagMs: sentAt - (started + p.at) };
          onResult?.(results[p.i], p);
        } finally {
          release();
        }
      })(),
    );
  }
  await Promise.all(running);
  return { results, ms: Date.now() - started };
}

export function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
