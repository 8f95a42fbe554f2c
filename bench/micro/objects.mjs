#!/usr/bin/env node
// Micro-benchmark: what creating one new SQLite-backed Durable Object costs in workerd CPU and in
// bytes written, split by how much the object does (nothing; one table; the OrderDO schema; the
// schema plus one 5 KB event). Runs bench/micro/object-worker.ts (bundled with esbuild) under
// Miniflare with persisted state, like the benchmark; variants are interleaved over several
// rounds and the median is printed. Each variant's count runs until its objects have been
// evicted and their WAL checkpointed (12 s), which is part of what a new object costs. Usage: node bench/micro/objects.mjs [--n=300] [--rounds=3]
//   [--variants=none,one-table,schema-before,schema-after,schema-before+event,schema-after+event,schema-after+100-selects] [--state-dir=/dev/shm]
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { startWorker } from "../lib/miniflare-host.mjs";
import { cpuMs, ioWrites, waitForIdle } from "../lib/proc.mjs";
import "../lib/settings.mjs";

const ROOT = resolve(import.meta.dirname, "..", "..");
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, "").split("="))
    .map(([k, v]) => [k, v ?? true]),
);
const n = Number(args.n ?? 300);
const rounds = Number(args.rounds ?? 3);
const variants = String(
  args.variants ?? "none,one-table,schema-before,schema-after,schema-before+event,schema-after+event",
).split(",");
const SETTLE_MS = 12_000;
const tmp = join(ROOT, "bench", ".tmp", `micro-${Date.now()}`);
mkdirSync(tmp, { recursive: true });

const out = join(tmp, "worker.mjs");
await build({
  entryPoints: [join(import.meta.dirname, "object-worker.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  external: ["cloudflare:*"],
  outfile: out,
  logLevel: "warning",
});

// --state-dir=/dev/shm: the objects' SQLite files on another filesystem than bench/.tmp.
const persistDir = args["state-dir"]
  ? join(resolve(String(args["state-dir"])), `orderly-micro-${Date.now()}`)
  : join(tmp, "state");
const worker = await startWorker({
  label: "micro",
  healthPath: "/?variant=none&n=1&concurrency=1",
  persistDir,
  workers: [
    {
      name: "micro",
      modules: true,
      scriptPath: out,
      compatibilityDate: "2026-11-01",
      durableObjects: { PROBES: { className: "Probe", useSQLite: true } },
    },
  ],
});
const pid = worker.pids[0];
const results = Object.fromEntries(variants.map((v) => [v, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      await waitForIdle(pid, { maxMs: 10_000 });
      const cpu = cpuMs(pid);
      const io = ioWrites(pid);
      const res = await fetch(`${worker.url}/?variant=${encodeURIComponent(variant)}&n=${n}&concurrency=16`);
      if (res.status !== 200) throw new Error(`${variant}: ${res.status} ${await res.text()}`);
      // Until the new objects are evicted (about 10 s idle) and their WAL is checkpointed.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      await waitForIdle(pid, { maxMs: 10_000 });
      const after = ioWrites(pid);
      results[variant].push({
        cpuMs: (cpuMs(pid) - cpu) / n,
        kib: (after.bytes - io.bytes) / 1024 / n,
        writes: (after.syscalls - io.syscalls) / n,
      });
    }
  }
} finally {
  await worker.mf.dispose();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(persistDir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`new objects: ${n} per variant and round, ${rounds} rounds, medians (idle wait after each)`);
console.log("| variant | workerd CPU ms/object | KiB written/object | write calls/object |");
console.log("| --- | --- | --- | --- |");
for (const [variant, runs] of Object.entries(results)) {
  const m = (k) => median(runs.map((r) => r[k])).toFixed(2);
  console.log(`| ${variant} | ${m("cpuMs")} | ${m("kib")} | ${m("writes")} |`);
}
