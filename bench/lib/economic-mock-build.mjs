// Bundles the strict e-conomic mock of the tests (test/mocks/economic.mock.ts) for plain Node with
// esbuild (which wrangler brings). Its vitest hooks only matter inside a test, so they are stubbed.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

// esbuild is a dependency of wrangler; resolving it from there needs nothing extra installed.
const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));

export async function buildEconomicMock(root, outDir) {
  const esbuild = fromWrangler("esbuild");
  const stub = join(outDir, "vitest-stub.mjs");
  writeFileSync(stub, "export const vi = {};\nexport function onTestFinished() {}\n");
  const outfile = join(outDir, "economic-mock.mjs");
  await esbuild.build({
    entryPoints: [join(root, "test/mocks/economic.mock.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22",
    outfile,
    alias: { vitest: stub },
    logLevel: "error",
  });
  return outfile;
}
