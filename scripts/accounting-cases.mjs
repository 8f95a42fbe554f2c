#!/usr/bin/env node
// Renders docs/accounting-cases.md from the case data in test/accounting-cases/ (TypeScript, loaded
// through Vite, which vitest already brings). `--check` only reports whether the file is current;
// test/accounting-cases/doc.test.ts makes the same comparison in the test run.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createServer } from "vite";

const root = fileURLToPath(new URL("..", import.meta.url));
const target = fileURLToPath(new URL("../docs/accounting-cases.md", import.meta.url));
const server = await createServer({
  root,
  configFile: false,
  logLevel: "error",
  appType: "custom",
  server: { middlewareMode: true, hmr: false, ws: false },
  optimizeDeps: { noDiscovery: true, include: [] },
});
let markdown;
try {
  const { renderAccountingCases } = await server.ssrLoadModule("/test/accounting-cases/render.ts");
  const { accountingCases } = await server.ssrLoadModule("/test/accounting-cases/cases.ts");
  markdown = renderAccountingCases(accountingCases);
} finally {
  await server.close();
}
let current = "";
try {
  current = readFileSync(target, "utf8");
} catch {
  // Not written yet.
}
if (process.argv.includes("--check")) {
  if (current !== markdown) {
    console.error("docs/accounting-cases.md is out of date: run `node scripts/accounting-cases.mjs`.");
    process.exit(1);
  }
  console.log("docs/accounting-cases.md is current.");
} else if (current === markdown) {
  console.log("docs/accounting-cases.md is current.");
} else {
  writeFileSync(target, markdown);
  console.log("wrote docs/accounting-cases.md");
}
