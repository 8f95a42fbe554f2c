// The two Workers under test, each in its own Miniflare instance: Orderly's bundle with the
// bindings of wrangler.toml on fresh persisted state (migrations applied, demo tenant seeded), and
// the HMAC-only baseline.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { applyMigrations, startWorker } from "./miniflare-host.mjs";
import { COMPRESSED_VARS } from "./settings.mjs";
import { d1Migrations, orderlyWorkerOptions, verifyBindings } from "./wrangler-config.mjs";

export const BASELINE_SECRET = "bench-baseline-webhook-secret";

export async function startBaseline(benchDir) {
  const worker = await startWorker({
    label: "baseline",
    healthPath: "/",
    workers: [
      {
        name: "baseline",
        modules: true,
        scriptPath: join(benchDir, "baseline/index.mjs"),
        compatibilityDate: "2026-11-01",
        bindings: { WEBHOOK_SECRET: BASELINE_SECRET },
      },
    ],
  });
  return { ...worker, secret: BASELINE_SECRET, hookPath: "/hooks/baseline" };
}

/**
 * Orderly on fresh state in `persistDir`. Verifies that every binding of wrangler.toml is
 * configured before starting, and that every Durable Object namespace answers after.
 */
export async function startOrderly({ wrangler, benchDir, bundleDir, persistDir, inspectorPort, label = "orderly" }) {
  const seedToken = randomBytes(16).toString("hex");
  const workerOptions = orderlyWorkerOptions(wrangler, {
    bundleDir,
    // The mock e-conomic listens on http://127.0.0.1, which production refuses as a base URL.
    varOverrides: { ...COMPRESSED_VARS, DEV_SEED_TOKEN: seedToken, ALLOW_PRIVATE_BASE_URLS: "true" },
    secrets: { CREDENTIALS_KEY: randomBytes(32).toString("base64") },
    outboundWorker: "loopback-egress",
  });
  const egress = {
    name: "loopback-egress",
    modules: true,
    scriptPath: join(benchDir, "egress/index.mjs"),
    compatibilityDate: wrangler.config.compatibility_date,
  };
  const bindings = verifyBindings(wrangler, workerOptions);
  const worker = await startWorker({ label, workers: [workerOptions, egress], persistDir, inspectorPort });
  for (const name of Object.keys(workerOptions.durableObjects)) {
    const ns = await worker.mf.getDurableObjectNamespace(name);
    if (typeof ns?.idFromName !== "function") throw new Error(`Durable Object binding ${name} is not usable`);
  }
  const migrations = await applyMigrations(worker.mf, d1Migrations(wrangler));
  const webhookSecret = randomBytes(24).toString("hex");
  const res = await fetch(`${worker.url}/dev/seed`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-dev-seed-token": seedToken },
    body: JSON.stringify({ webhookSecret }),
  });
  if (res.status !== 200) throw new Error(`seeding the demo tenant failed: ${res.status} ${await res.text()}`);
  const seed = await res.json();
  return {
    ...worker,
    bindings,
    vars: workerOptions.bindings,
    migrations,
    seed,
    secret: webhookSecret,
    hookPath: `/hooks/${seed.shopConnectionId}`,
    workerName: workerOptions.name,
    api: `${worker.url}/api/v1`,
    authorization: `Bearer ${seed.apiToken}`,
  };
}
