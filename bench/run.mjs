#!/usr/bin/env node
// npm run bench (full, about 10 minutes) / npm run bench:quick (about a minute).
// Bundles the Worker as `wrangler deploy --dry-run` does, runs it with Miniflare's API (workerd,
// not wrangler dev) beside an HMAC-only baseline, and measures ingest, the ack path's stages and
// the end-to-end path to a mock e-conomic API. Results: bench/results/<stamp>.json, latest.json,
// latest.md. Options: --quick, --only=ingest,spans,e2e,profile, --spans-seconds=N, --state-dir=DIR
// (persisted state elsewhere, e.g. /dev/shm), --ingest-topic=orders/paid, --keep (keep the run's
// state under bench/.tmp), --render (rewrite latest.md from latest.json and notes.md).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { bundleWorker } from "./lib/build.mjs";
import { buildEconomicMock } from "./lib/economic-mock-build.mjs";
import { startEconomicServer } from "./lib/economic-server.mjs";
import { gitCommit, loadAverages, machine, sampleRss } from "./lib/proc.mjs";
import { writeResults } from "./lib/report.mjs";
import { MOCK_DELAY_MS, PROFILES } from "./lib/settings.mjs";
import { startBaseline, startOrderly } from "./lib/targets.mjs";
import { readWranglerConfig } from "./lib/wrangler-config.mjs";
import { runE2e } from "./phases/e2e.mjs";
import { runIngest } from "./phases/ingest.mjs";
import { profileIngest, profiler } from "./phases/profile.mjs";
import { runSpans } from "./phases/spans.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const BENCH = join(ROOT, "bench");
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, "").split("="))
    .map(([k, v]) => [k, v ?? true]),
);
const profileName = args.quick ? "quick" : "full";
const profile = structuredClone(PROFILES[profileName]);
// --spans-seconds=N lengthens the ack-path stage cells (for comparing two versions' CPU per request).
if (args["spans-seconds"]) profile.spans.seconds = Number(args["spans-seconds"]);
// --ingest-seconds=N sets the length of each ingest cell (the quick profile's 1.5 s is short of a burst).
if (args["ingest-seconds"]) profile.ingest.seconds = Number(args["ingest-seconds"]);
if (args["ingest-warmup"] !== undefined) profile.ingest.warmupSeconds = Number(args["ingest-warmup"]);
// --ingest-concurrency=32[,128] runs only those ingest cells (to compare two versions quickly).
if (args["ingest-concurrency"]) profile.ingest.concurrencies = String(args["ingest-concurrency"]).split(",").map(Number);
// --ingest-pairs=N runs the baseline-then-Orderly pair at 32 concurrent N times; the targets take the median.
if (args["ingest-pairs"]) profile.ingest.repeat = { concurrency: 32, pairs: Number(args["ingest-pairs"]) };
// --profile-seconds=N profiles new orders for N s (with --only=profile: the profile alone).
if (args["profile-seconds"]) profile.profileSeconds = Number(args["profile-seconds"]);
const only = new Set(String(args.only ?? "ingest,spans,e2e,profile").split(","));
// The inspector is opened only when profiling; nothing attaches to it outside the profiled runs.
const inspectorPort = only.has("profile") && profile.profileSeconds > 0 ? 0 : undefined;
const ingestTopic = args["ingest-topic"] ?? "orders/create";
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const tmp = join(BENCH, ".tmp", `run-${stamp}`);
// --state-dir=/dev/shm keeps the Workers' persisted state (SQLite files of objects, D1, R2) on
// another filesystem than bench/.tmp; see results/notes.md for what ext4 file creation costs.
const stateDir = args["state-dir"] ? join(resolve(String(args["state-dir"])), `orderly-bench-${stamp}`) : tmp;
const started = Date.now();
if (args.render) {
  // Re-renders latest.md from latest.json (after editing results/notes.md), without running anything.
  const { renderLatest } = await import("./lib/report.mjs");
  console.log(`Written: ${renderLatest(join(BENCH, "results"), args.quick ? "quick" : "full")}`);
  process.exit(0);
}
const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

const results = {
  profile: profileName,
  date: new Date().toISOString(),
  commit: gitCommit(ROOT),
  machine: machine(),
  loadAverageAtStart: loadAverages(),
  runtime:
    "Miniflare API (miniflare package, workerd underneath; not wrangler dev) running the bundle of `wrangler deploy --dry-run`",
  ingestTopic,
  stateFilesystem: `${stateDir === tmp ? "bench/.tmp" : String(args["state-dir"])} (${filesystemType(join(stateDir, ".."))})`,
};
// Disposers of what this run started (Miniflare instances, the mock server), newest last.
const cleanups = [];
const stopAll = async () => {
  for (const s of cleanups.splice(0)) await s().catch(() => {});
};
process.on("SIGINT", () => stopAll().then(() => process.exit(130)));

try {
  mkdirSync(tmp, { recursive: true });
  const wrangler = readWranglerConfig(ROOT);
  log("bundling the Worker (wrangler deploy --dry-run)");
  const bundleDir = join(BENCH, ".tmp", "dist");
  results.bundle = bundleWorker(ROOT, bundleDir);
  log(`bundle ${results.bundle.indexRawBytes} B raw, ${results.bundle.indexGzipBytes} B gzip`);

  if (only.has("ingest") || only.has("spans") || inspectorPort !== undefined) {
    const baseline = await startBaseline(BENCH);
    cleanups.push(() => baseline.mf.dispose());
    let orderly = await startOrderly({
      wrangler,
      benchDir: BENCH,
      bundleDir,
      persistDir: join(stateDir, "ingest-state"),
      inspectorPort,
    });
    cleanups.push(() => orderly.mf.dispose());
    // Orderly again on new state (see runIngest): the cells and the spans each measure alone.
    let restarts = 0;
    const fresh = async () => {
      await orderly.mf.dispose();
      restarts++;
      orderly = await startOrderly({
        wrangler,
        benchDir: BENCH,
        bundleDir,
        persistDir: join(stateDir, `ingest-state-${restarts}`),
        inspectorPort,
      });
      rss.track(orderly.pids);
      return orderly;
    };
    results.bindings = orderly.bindings;
    results.vars = orderly.vars;
    results.startup = { baseline: pick(baseline), orderly: { ...pick(orderly), migrations: orderly.migrations } };
    log(`baseline up in ${baseline.startupMs} ms, Orderly in ${orderly.startupMs} ms (workerd ${orderly.pids.join(",")})`);
    const rss = sampleRss([...baseline.pids, ...orderly.pids]);
    if (only.has("ingest")) {
      log(`ingest (${ingestTopic}), ${profile.ingest.seconds} s per cell`);
      results.ingest = await runIngest({ baseline, orderly, fresh, profile: profile.ingest, topic: ingestTopic, log });
    }
    if (only.has("spans")) {
      log(`ack-path stages at concurrency ${profile.spans.concurrency}`);
      if (only.has("ingest")) await fresh();
      results.spans = await runSpans({ baseline, orderly, profile: profile.spans, topic: ingestTopic, log });
    }
    if (inspectorPort !== undefined) {
      log(`CPU profile of new orders at concurrency 32 (${profile.profileSeconds} s)`);
      const bundlePath = join(bundleDir, "index.js");
      results.ingestProfile = await profileIngest({
        orderly,
        bundlePath,
        seconds: profile.profileSeconds,
        topic: ingestTopic,
        log,
      });
    }
    const peaks = rss.stop();
    const orderlyPeaks = Object.entries(peaks).filter(([pid]) => !baseline.pids.includes(Number(pid)));
    results.peakRssBytes = {
      baseline: peaks[baseline.pids[0]],
      orderlyIngest: Math.max(...orderlyPeaks.map(([, bytes]) => bytes)),
    };
    await stopAll();
  }

  if (only.has("e2e")) {
    const mockModule = await buildEconomicMock(ROOT, tmp);
    const server = await startEconomicServer({ mockModule, delayMs: MOCK_DELAY_MS });
    cleanups.push(() => server.stop());
    const orderly = await startOrderly({
      wrangler,
      benchDir: BENCH,
      bundleDir,
      persistDir: join(stateDir, "e2e-state"),
      label: "orderly-e2e",
      inspectorPort,
    });
    cleanups.push(() => orderly.mf.dispose());
    results.bindings ??= orderly.bindings;
    results.vars ??= orderly.vars;
    results.startup = { ...results.startup, orderlyE2e: pick(orderly) };
    log(`e2e: Orderly up in ${orderly.startupMs} ms; mock e-conomic on 127.0.0.1:${server.port}, ${MOCK_DELAY_MS} ms per answer`);
    const rss = sampleRss(orderly.pids);
    const profiled = inspectorPort === undefined ? null : profiler(orderly, join(bundleDir, "index.js"));
    results.e2e = { mockDelayMs: MOCK_DELAY_MS, ...(await runE2e({ orderly, server, profile: profile.e2e, profiled, log })) };
    results.peakRssBytes = { ...results.peakRssBytes, orderlyE2e: rss.stop()[orderly.pids[0]] };
    await stopAll();
  }
  results.loadAverageAtEnd = loadAverages();
  results.durationSeconds = Math.round((Date.now() - started) / 1000);
  const written = writeResults(join(BENCH, "results"), stamp, results);
  console.log(`\n${written.table}\nWritten: ${written.files.join(", ")}`);
  if (!args.keep) {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }
} catch (error) {
  console.error(error);
  await stopAll();
  process.exitCode = 1;
}

/** The filesystem type of a directory (ext2/ext3 for ext4, tmpfs, ...), as `stat -f` names it. */
function filesystemType(dir) {
  try {
    mkdirSync(dir, { recursive: true });
    return execFileSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).trim();
  } catch {
    return "unknown filesystem";
  }
}

function pick(worker) {
  return { readyMs: worker.readyMs, startupMs: worker.startupMs, rssAtStartBytes: worker.rssAtStartBytes };
}
