// Starts Orderly under `wrangler dev` for the browser tests: a free port, a fresh --persist-to
// directory under test-results/, migrations applied, the demo tenant and user seeded. Offline:
// no metrics, no error reports, no cf fetch. Returns the base URL, the seed and a stop function.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { OFFLINE_ENV } from "../../scripts/offline-env.mjs";

const root = path.resolve(import.meta.dirname, "../..");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(baseUrl, child, log) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${log.join("")}`);
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not answer on ${baseUrl} within 2 minutes:\n${log.join("")}`);
}

export async function startOrderly() {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const persistTo = path.join(root, "test-results", "e2e-state", String(port));
  rmSync(persistTo, { recursive: true, force: true });
  mkdirSync(persistTo, { recursive: true });
  const env = { ...process.env, ...OFFLINE_ENV, CI: "true" };
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "orderly", "--local", "--persist-to", persistTo], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}${migrate.stderr}`);

  const seedToken = randomBytes(16).toString("hex");
  const credentialsKey = randomBytes(32).toString("base64");
  const log = [];
  // The fresh key goes in as an environment secret too, so no .dev.vars is needed (CI has none).
  env.CREDENTIALS_KEY = credentialsKey;
  const child = spawn(
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
      "--var",
      `CREDENTIALS_KEY:${credentialsKey}`,
      // A failing step fails fast in the browser tests.
      "--var",
      "RETRY_BASE_SECONDS:0",
      "--var",
      "RETRY_MAX_SECONDS:0",
      "--var",
      "STEP_MAX_ATTEMPTS:2",
      "--show-interactive-dev-session=false",
    ],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout.on("data", (d) => log.push(String(d)));
  child.stderr.on("data", (d) => log.push(String(d)));
  const stop = async () => {
    if (child.exitCode !== null) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    await new Promise((r) => {
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        r();
      }, 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        r();
      });
    });
    rmSync(persistTo, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, log);
    const demoPassword = randomBytes(12).toString("base64url");
    const webhookSecret = randomBytes(24).toString("hex");
    const res = await fetch(`${baseUrl}/dev/seed`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-dev-seed-token": seedToken },
      body: JSON.stringify({ webhookSecret, demoPassword }),
    });
    if (!res.ok) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
    const seed = await res.json();
    return { baseUrl, seed: { ...seed, demoPassword, webhookSecret }, stop, log };
  } catch (error) {
    await stop();
    throw error;
  }
}
