// Bundles a Worker exactly as `wrangler deploy` would (--dry-run, nothing leaves the machine) and
// measures what would be uploaded.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { OFFLINE_ENV } from "./settings.mjs";

const require = createRequire(import.meta.url);
const WRANGLER_BIN = join(require.resolve("wrangler/package.json"), "..", "bin", "wrangler.js");

export function bundleWorker(root, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  const started = Date.now();
  const result = spawnSync(process.execPath, [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outDir], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...OFFLINE_ENV, CI: "true" },
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  const files = readdirSync(outDir, { recursive: true }).filter((f) => statSync(join(outDir, f)).isFile());
  const code = files.filter((f) => !f.endsWith(".map") && !f.endsWith(".md"));
  const bytes = (f) => readFileSync(join(outDir, f));
  const index = bytes("index.js");
  return {
    buildMs: Date.now() - started,
    files: code,
    indexRawBytes: index.byteLength,
    indexGzipBytes: gzipSync(index).byteLength,
    totalRawBytes: code.reduce((sum, f) => sum + bytes(f).byteLength, 0),
    totalGzipBytes: code.reduce((sum, f) => sum + gzipSync(bytes(f)).byteLength, 0),
  };
}
