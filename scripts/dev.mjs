#!/usr/bin/env node
// npm start: local D1/R2/Queues/Durable Objects under `wrangler dev`, migrations applied, the demo
// tenant seeded, and its API token and webhook details printed. Ctrl-C stops it.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { OFFLINE_ENV } from "./offline-env.mjs";

const port = Number(process.env.PORT ?? 8787);
const baseUrl = `http://127.0.0.1:${port}`;
const env = { ...process.env, ...OFFLINE_ENV };
const persistTo = process.env.ORDERLY_STATE_DIR ?? ".wrangler/state";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `Node ${process.versions.node} is too old for wrangler; run this through npm (npm start), which uses the project's Node 22.`,
  );
  process.exit(1);
}

if (!existsSync(".dev.vars") || !readFileSync(".dev.vars", "utf8").includes("CREDENTIALS_KEY=")) {
  writeFileSync(".dev.vars", `CREDENTIALS_KEY=${randomBytes(32).toString("base64")}\n`, { flag: "a" });
  console.log("Wrote a fresh CREDENTIALS_KEY to .dev.vars (local only; never commit it).");
}

mkdirSync(".wrangler", { recursive: true });
const demoFile = ".wrangler/demo.json";
const previous = existsSync(demoFile) ? JSON.parse(readFileSync(demoFile, "utf8")) : {};
const webhookSecret = previous.webhookSecret ?? randomBytes(24).toString("hex");
// The demo user's password for the UI: kept across restarts, like the webhook secret.
const demoPassword = previous.demoPassword ?? randomBytes(12).toString("base64url");

const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "orderly", "--local", "--persist-to", persistTo], {
  stdio: "inherit",
  env: { ...env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const seedToken = randomBytes(16).toString("hex");
const wrangler = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    persistTo,
    "--var",
    `DEV_SEED_TOKEN:${seedToken}`,
    // Local only: a connection may point at a mock on this machine (http://127.0.0.1:…).
    "--var",
    "ALLOW_PRIVATE_BASE_URLS:true",
    // The address the dev server answers on, for the links in alert and account emails.
    "--var",
    `PUBLIC_URL:${baseUrl}`,
    // Local only: the demo user may try "New shop" (deployments list their own people, or nobody).
    "--var",
    "TENANT_CREATORS:demo@orderly.test",
    "--test-scheduled",
    "--show-interactive-dev-session=false",
  ],
  { stdio: ["ignore", "inherit", "inherit"], env },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));

async function waitForHealth() {
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not answer on ${baseUrl} within 2 minutes`);
}

try {
  await waitForHealth();
  const res = await fetch(`${baseUrl}/dev/seed`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-dev-seed-token": seedToken },
    body: JSON.stringify({ webhookSecret, demoPassword }),
  });
  if (!res.ok) throw new Error(`seeding the demo tenant failed: ${res.status} ${await res.text()}`);
  const seed = await res.json();
  writeFileSync(demoFile, JSON.stringify({ ...seed, demoPassword, baseUrl }, null, 2));
  console.log(`
┌─ Orderly is running on ${baseUrl}
│  Demo tenant:   ${seed.tenantId}
│  Sign in:       ${baseUrl}/  as ${seed.userEmail}  password ${demoPassword}
│  API token:     ${seed.apiToken}
│  Webhook URL:   ${baseUrl}/hooks/${seed.shopConnectionId}   (Shopify-style, secret in ${demoFile})
│  Flow:          paid orders → booked invoice in the sandbox ledger
│
│  Send a signed demo order:   npm run demo:order
│  See the invoices:           curl -H "authorization: Bearer ${seed.apiToken}" ${baseUrl}/api/v1/ledger/invoices
│  API description:            ${baseUrl}/api/v1/openapi.json
└─ Ctrl-C stops the server; state stays in ${persistTo}.
`);
} catch (error) {
  console.error(String(error));
  wrangler.kill("SIGTERM");
  process.exit(1);
}
