#!/usr/bin/env node
// Bundles the Worker exactly as `wrangler deploy` would (--dry-run) and checks its gzip size.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { OFFLINE_ENV } from "./offline-env.mjs";

const LIMIT = 1024 * 1024;
const result = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"], {
  encoding: "utf8",
  env: { ...process.env, ...OFFLINE_ENV },
});
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  process.exit(result.status ?? 1);
}
const bundle = readFileSync("dist/index.js");
const gzip = gzipSync(bundle).byteLength;
console.log(
  `wrangler deploy --dry-run: bundle ${(bundle.byteLength / 1024).toFixed(0)} KiB, ${(gzip / 1024).toFixed(0)} KiB gzip (limit ${LIMIT / 1024} KiB gzip)`,
);
if (gzip > LIMIT) {
  console.error("The bundle is over the gzip budget.");
  process.exit(1);
}
