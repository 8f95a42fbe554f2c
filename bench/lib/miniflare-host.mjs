// Starts a Worker with Miniflare's API (workerd underneath, no wrangler dev), finds the workerd
// process it spawned, and times the start: from `new Miniflare` to the first 200 on a health path.
// `workers` are Miniflare's documented (v4-shaped) worker options; the first one gets the requests.
import { mkdirSync } from "node:fs";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { childProcesses, rssBytes } from "./proc.mjs";

export async function startWorker({ label, workers, persistDir, healthPath = "/health", inspectorPort, logLevel }) {
  if (persistDir) mkdirSync(persistDir, { recursive: true });
  const before = new Set(childProcesses(process.pid, "workerd"));
  const started = performance.now();
  // Miniflare 5 takes a new option shape; its converter takes the documented (v4) one used here.
  const options = convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    telemetry: { enabled: false },
    log: new Log(logLevel ?? LogLevel.WARN, { prefix: label }),
    ...(persistDir ? { resourcePersistencePath: persistDir } : {}),
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
    workers,
  });
  const mf = new Miniflare({ ...options, enableDevRegistry: false });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const readyMs = performance.now() - started;
  let startupMs = null;
  let last = "no answer";
  for (let i = 0; i < 600 && startupMs === null; i++) {
    try {
      const res = await fetch(`${url}${healthPath}`);
      const text = await res.text();
      if (res.status === 200) startupMs = performance.now() - started;
      else last = `${res.status} ${text.slice(0, 300)}`;
    } catch (error) {
      last = String(error.cause?.code ?? error);
    }
    if (startupMs === null) await new Promise((r) => setTimeout(r, 50));
  }
  if (startupMs === null) throw new Error(`${label}: no 200 on ${healthPath} within 30 s (last: ${last})`);
  const pids = childProcesses(process.pid, "workerd").filter((pid) => !before.has(pid));
  const rssAtStartBytes = pids.reduce((sum, pid) => sum + rssBytes(pid), 0);
  return { label, mf, url, pids, readyMs: Math.round(readyMs), startupMs: Math.round(startupMs), rssAtStartBytes };
}

/** Applies migrations (from d1Migrations) through the D1 binding, one batch per file, in order. */
export async function applyMigrations(mf, migrations) {
  const started = performance.now();
  let statements = 0;
  for (const { binding, files } of migrations) {
    const db = await mf.getD1Database(binding);
    for (const { file, statements: sql } of files) {
      if (sql.length === 0) continue;
      try {
        await db.batch(sql.map((s) => db.prepare(s)));
      } catch (error) {
        throw new Error(`migration ${file} failed on ${binding}: ${error.message}`);
      }
      statements += sql.length;
    }
  }
  return { statements, ms: Math.round(performance.now() - started) };
}
