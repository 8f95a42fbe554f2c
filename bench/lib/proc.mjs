// What the benchmark reads from Linux about itself and the machine: workerd processes, their
// resident memory and CPU time, load averages and the machine description for the results.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";

const CLOCK_TICKS = 100;

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** Direct children of `parent` whose command line mentions `name`. */
export function childProcesses(parent, name) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    if (stat(entry)?.ppid !== parent) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes(name)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Resident set size in bytes, or 0 once the process is gone. */
export function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process in milliseconds. */
export function cpuMs(pid) {
  const s = stat(pid);
  return s ? (s.cpuTicks * 1000) / CLOCK_TICKS : 0;
}

/** Bytes a process has caused to be written to storage, and its write system calls, so far. */
export function ioWrites(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/io`, "utf8");
    const field = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(text)?.[1] ?? 0);
    return { bytes: field("write_bytes"), syscalls: field("syscw") };
  } catch {
    return { bytes: 0, syscalls: 0 };
  }
}

/** Samples the RSS of some processes until stopped; keeps the peak of each. */
export function sampleRss(pids, intervalMs = 200) {
  const tracked = [...pids];
  const peaks = Object.fromEntries(pids.map((pid) => [pid, rssBytes(pid)]));
  const timer = setInterval(() => {
    for (const pid of tracked) peaks[pid] = Math.max(peaks[pid], rssBytes(pid));
  }, intervalMs);
  timer.unref();
  return {
    peaks,
    /** Samples more processes from now on (a target started again on fresh state). */
    track(more) {
      for (const pid of more) peaks[pid] ??= rssBytes(pid);
      tracked.push(...more);
    },
    stop() {
      clearInterval(timer);
      return peaks;
    },
  };
}

/**
 * Waits until a process is (nearly) idle: less than `busyShare` of a core over a 500 ms window,
 * bounded by `maxMs`. Returns how long that took: deferred work still running after a phase.
 */
export async function waitForIdle(pid, { busyShare = 0.1, maxMs = 30_000, idleForMs = 500 } = {}) {
  const started = Date.now();
  let previous = cpuMs(pid);
  let idleSince = null;
  while (Date.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 500));
    const now = cpuMs(pid);
    if (now - previous < 500 * busyShare) {
      idleSince ??= Date.now() - 500;
      // Idle for idleForMs in a row: a pause shorter than that (the inbox waits 1 s after a burst
      // before it hands the burst on) is not the end of the work.
      if (Date.now() - idleSince >= idleForMs) return { idleAfterMs: idleSince - started, settled: true };
    } else {
      idleSince = null;
    }
    previous = now;
  }
  return { idleAfterMs: Date.now() - started, settled: false };
}

/** `uptime`'s load averages (1, 5, 15 min), read when a result is taken. */
export function loadAverages() {
  const [one, five, fifteen] = loadavg().map((v) => Math.round(v * 100) / 100);
  return { one, five, fifteen };
}

export function machine() {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  try {
    cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux
  }
  let nproc = availableParallelism();
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  } catch {
    // no coreutils
  }
  return { nproc, cpuModel, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version };
}

export function gitCommit(cwd) {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "migrations", "wrangler.toml"], {
      cwd,
      encoding: "utf8",
    }).trim();
    return dirty ? `${commit} (+ uncommitted changes in src/, migrations/ or wrangler.toml)` : commit;
  } catch {
    return "unknown";
  }
}
