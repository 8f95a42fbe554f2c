// The real Worker under `wrangler dev` on 127.0.0.1 with persisted state: built once per run from a
// snapshot of the source (so edits made elsewhere during a run do not reload it), migrations
// applied, demo tenant seeded through POST /dev/seed, and killable with SIGKILL as a process group
// (wrangler and its workerd children) and restartable on the same state.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fetchWithin, freePort, sleep } from "./util.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
/** Wrangler needs Node >= 22.12; npm scripts put the project's Node 22 first, a bare `tsx` may not. */
const NODE = (() => {
  const [major, minor] = process.versions.node.split(".").map(Number);
  const bundled = join(ROOT, "node_modules/node/bin/node");
  return major > 22 || (major === 22 && minor >= 12) || !existsSync(bundled) ? process.execPath : bundled;
})();
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

function wrangler(args, cwd, extra = {}) {
  return spawnSync(NODE, [WRANGLER, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...OFFLINE_ENV, CI: "true", ...extra },
  });
}

/**
 * Bundles the Worker as `wrangler deploy --dry-run` does and writes a config next to the bundle
 * that serves it unbundled; returns the config's path. Shared by every scenario of one run.
 * `source` is the checkout to bundle (another one only to try a fix: run.mjs --source).
 */
export function buildWorker(buildDir, source = ROOT) {
  mkdirSync(buildDir, { recursive: true });
  const out = join(buildDir, "bundle");
  const built = wrangler(["deploy", "--dry-run", "--outdir", out], source);
  if (built.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${built.stdout}\n${built.stderr}`);
  let toml = readFileSync(join(source, "wrangler.toml"), "utf8");
  const swaps = [
    [/^main = ".*"$/m, `main = "${join(out, "index.js")}"\nno_bundle = true`],
    [/^migrations_dir = ".*"$/m, `migrations_dir = "${join(source, "migrations")}"`],
  ];
  for (const [pattern, value] of swaps) {
    if (!pattern.test(toml)) throw new Error(`wrangler.toml changed shape: ${pattern} not found`);
    toml = toml.replace(pattern, value);
  }
  const config = join(buildDir, "wrangler.toml");
  writeFileSync(config, toml);
  // The secret the Worker requires, for every worker of this run (a restart must open what it sealed).
  writeFileSync(join(buildDir, ".dev.vars"), `CREDENTIALS_KEY=${randomBytes(32).toString("base64")}\n`);
  // D1 migrations applied once; every worker starts from a copy of this state.
  const migrated = wrangler(
    ["d1", "migrations", "apply", "orderly", "--local", "--persist-to", join(buildDir, "template-state"), "-c", config],
    buildDir,
  );
  if (migrated.status !== 0) throw new Error(`migrations failed:\n${migrated.stdout}\n${migrated.stderr}`);
  return config;
}

/**
 * One Worker on its own persisted state. `vars` are passed with --var (compressed retry schedule,
 * timeouts); CREDENTIALS_KEY comes from the .dev.vars beside the built config.
 */
export async function createWorker({ config, dir, vars = {}, log = () => {} }) {
  mkdirSync(dir, { recursive: true });
  const state = join(dir, "state");
  const port = await freePort();
  const inspectorPort = await freePort();
  const seedToken = randomBytes(16).toString("hex");
  const url = `http://127.0.0.1:${port}`;
  let child = null;
  let starts = 0;

  const template = join(dirname(config), "template-state");
  if (!existsSync(state)) cpSync(template, state, { recursive: true });

  async function start() {
    starts++;
    const allVars = { ...vars, DEV_SEED_TOKEN: seedToken };
    const args = [
      WRANGLER,
      "dev",
      "-c",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      state,
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
      ...Object.entries(allVars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ];
    const out = createWriteStream(join(dir, `wrangler-${starts}.log`));
    // detached: its own process group, so a SIGKILL reaches workerd too.
    child = spawn(NODE, args, {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...OFFLINE_ENV },
    });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    const started = Date.now();
    while (Date.now() - started < 120_000) {
      if (child.exitCode !== null)
        throw new Error(`wrangler dev exited with ${child.exitCode}; see ${join(dir, `wrangler-${starts}.log`)}`);
      const res = await fetchWithin(`${url}/health`, {}, 2000);
      if (res.status === 200) {
        log(`worker up on ${url} after ${Date.now() - started} ms (start ${starts})`);
        return Date.now() - started;
      }
      await sleep(200);
    }
    throw new Error(`wrangler dev did not answer on ${url} within 2 minutes`);
  }

  function killGroup(signal) {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
    return exited;
  }

  return {
    url,
    dir,
    state,
    get starts() {
      return starts;
    },
    start,
    /** SIGKILL to wrangler and its workerd children: nothing gets to clean up. */
    async kill() {
      await killGroup("SIGKILL");
      // workerd may outlive its group leader for a moment; wait until the port is free.
      for (let i = 0; i < 50; i++) {
        const res = await fetchWithin(`${url}/health`, {}, 500);
        if (res.status === 0) return;
        await sleep(100);
      }
    },
    async stop() {
      await Promise.race([killGroup("SIGTERM"), sleep(5000)]);
      await killGroup("SIGKILL");
    },
    async seed(webhookSecret) {
      const res = await fetchWithin(
        `${url}/dev/seed`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "x-dev-seed-token": seedToken },
          body: JSON.stringify({ webhookSecret }),
        },
        30_000,
      );
      if (res.status !== 200) throw new Error(`seeding failed: ${res.status} ${res.text}`);
      return JSON.parse(res.text);
    },
    /** Runs the cron handler once (the platform would every 5 minutes; compressed runs call it more often). */
    async cron() {
      return fetchWithin(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`, {}, 30_000);
    },
    /** A read-only query on the local D1 (e.g. the dead_letters table, which has no API). */
    d1(sql) {
      const res = wrangler(
        ["d1", "execute", "orderly", "--local", "--persist-to", state, "-c", config, "--json", "--command", sql],
        dir,
      );
      if (res.status !== 0) throw new Error(`d1 query failed: ${res.stderr || res.stdout}`);
      return JSON.parse(res.stdout)[0]?.results ?? [];
    },
    /** The bytes of a local R2 object (the raw body of a large webhook), or null. */
    r2(key) {
      const res = spawnSync(
        NODE,
        [WRANGLER, "r2", "object", "get", `orderly-blobs/${key}`, "--local", "--persist-to", state, "-c", config, "--pipe"],
        {
          cwd: dir,
          env: { ...process.env, ...OFFLINE_ENV, CI: "true" },
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return res.status === 0 ? res.stdout : null;
    },
    exists: () => existsSync(state),
  };
}
