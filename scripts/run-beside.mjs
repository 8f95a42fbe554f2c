// Runs commands at the same time and fails if any fails. `npm test` runs the chaos suite and the
// cost tests this way: both spend most of their time waiting (for faults to pass, for alarms to go
// off), so side by side they take about as long as the longer one alone. Each command's output is
// prefixed with its name, line by line, so the two can be told apart.
import { spawn } from "node:child_process";

const commands = process.argv.slice(2);
if (commands.length === 0) {
  console.error('usage: node scripts/run-beside.mjs "command one" "command two" ...');
  process.exit(2);
}

function run(command) {
  const name = command.replace(/^npm run /, "");
  return new Promise((resolve) => {
    const child = spawn(command, { shell: true, stdio: ["ignore", "pipe", "pipe"] });
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) out.write(`[${name}] ${line}\n`);
      });
      stream.on("end", () => {
        if (rest) out.write(`[${name}] ${rest}\n`);
      });
    }
    child.on("close", (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0) }));
  });
}

const results = await Promise.all(commands.map(run));
for (const { name, code } of results) console.log(`${name}: ${code === 0 ? "passed" : `FAILED (exit ${code})`}`);
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
