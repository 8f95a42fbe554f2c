#!/usr/bin/env node
// npm run chaos / chaos:small: the chaos suite. Runs the real Worker under `wrangler dev` with
// persisted state against a strict e-conomic mock with a seeded fault injector, one scenario after
// the other, prints one summary line per scenario, appends the figures to
// bench/results/chaos-<date>.json, writes bench/results/chaos-latest.md, and exits non-zero on
// any miss. Loopback only: the Worker, the mock and the driver all listen on 127.0.0.1.
import { randomInt } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { PROFILES, parseArgs } from "./args.mjs";
import { prng } from "./faults.mjs";
import { machine, replayCommand, writeResults } from "./report.mjs";
import { SCENARIOS } from "./scenarios/index.mjs";
import { seconds } from "./util.mjs";
import { buildWorker } from "./worker-process.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const options = parseArgs(process.argv.slice(2));
const seed = options.seed ?? randomInt(1, 2 ** 31);
const profile = { ...PROFILES[options.profile], ...options.overrides };
const runId = `${new Date().toISOString().replace(/[:.]/g, "-")}-${seed}`;
const workDir = join(ROOT, "bench/.tmp/chaos", runId);
const host = machine();

console.log(`chaos (${options.profile}) seed=${seed}  replay: ${replayCommand(options.profile, seed, process.argv.slice(2))}`);
console.log(`machine: ${host.nproc} cores, ${host.cpu}, ${host.memoryGiB} GiB, node ${process.version}`);

const started = Date.now();
mkdirSync(workDir, { recursive: true });
if (options.source) console.log(`bundling the Worker from ${options.source}, not this checkout`);
const config = buildWorker(join(workDir, "build"), options.source ?? ROOT);
const selected = SCENARIOS.filter((s) => (options.only ? options.only.includes(s.id) : profile.scenarios.includes(s.id)));
const results = [];
for (const scenario of selected) {
  const ctx = {
    seed,
    random: prng(`${seed}:${scenario.id}`),
    config,
    workDir,
    load: profile[scenario.id] ?? {},
    vars: profile.vars ?? {},
    settleBoundMs: profile.settleBoundMs,
    log: (line) => console.log(line),
  };
  const t0 = Date.now();
  let result;
  try {
    result = await scenario.run(ctx);
  } catch (error) {
    result = { pass: false, misses: [String(error?.stack ?? error)], line: `${scenario.title}: ERROR ${String(error)}` };
  }
  result.durationMs ??= Date.now() - t0;
  results.push({ id: scenario.id, title: scenario.title, ...result });
  console.log(result.line);
}
const totalMs = Date.now() - started;
const pass = results.every((r) => r.pass);
console.log(`chaos (${options.profile}) ${pass ? "PASS" : "FAIL"} in ${seconds(totalMs)} s, seed=${seed}`);
writeResults({
  ROOT,
  profile: options.profile,
  seed,
  host,
  results,
  totalMs,
  pass,
  argv: process.argv.slice(2),
  settings: profile,
});
if (pass && !options.keep) rmSync(workDir, { recursive: true, force: true });
else console.log(`state and logs kept in ${workDir}`);
process.exit(pass ? 0 : 1);
