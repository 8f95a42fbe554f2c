// Where the figures go: bench/results/chaos-<date>.json (appended, one entry per run) and
// bench/results/chaos-latest.md (the last run, with the machine and the seed).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";

export function machine() {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    node: process.version,
  };
}

/** The command that replays a run: same profile, seed and flags. */
export function replayCommand(profile, seed, argv) {
  const kept = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--small" || argv[i] === "--full") continue;
    if (argv[i] === "--seed") {
      i++;
      continue;
    }
    kept.push(argv[i]);
  }
  return `npm run chaos${profile === "small" ? ":small" : ""} -- --seed ${seed}${kept.length ? ` ${kept.join(" ")}` : ""}`;
}

export function writeResults({ ROOT, profile, seed, host, results, totalMs, pass, argv, settings }) {
  const dir = join(ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const file = join(dir, `chaos-${date}.json`);
  const runs = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [];
  const entry = {
    at: new Date().toISOString(),
    profile,
    seed,
    argv,
    machine: host,
    pass,
    totalMs,
    settings,
    scenarios: results.map(({ line, ...figures }) => ({ ...figures, line })),
  };
  runs.push(entry);
  writeFileSync(file, `${JSON.stringify(runs, null, 2)}\n`);
  const replay = replayCommand(profile, seed, argv);
  const md = [
    `# Chaos run: ${pass ? "PASS" : "FAIL"}`,
    "",
    `- when: ${entry.at}`,
    `- profile: ${profile} (\`${replay}\` replays it)`,
    `- seed: ${seed}`,
    `- machine: ${host.nproc} cores, ${host.cpu}, ${host.memoryGiB} GiB memory, ${host.platform}, node ${host.node}`,
    `- total: ${Math.round(totalMs / 1000)} s`,
    "",
    "| scenario | result | duration | summary |",
    "| --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.title} | ${r.pass ? "pass" : "**FAIL**"} | ${Math.round((r.durationMs ?? 0) / 1000)} s | ${r.line.replace(/\|/g, "\\|")} |`,
    ),
    "",
    ...(results.some((r) => r.notes?.length)
      ? ["## Notes", "", ...results.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.title}: ${n}`)), ""]
      : []),
    `Figures of every run: \`bench/results/chaos-${date}.json\`.`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "chaos-latest.md"), md);
}
