import { availableParallelism } from "node:os";
import path from "node:path";

// Keep wrangler and miniflare offline: no metrics, no error reports, no request.cf fetch.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.WRANGLER_SEND_ERROR_REPORTS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real local D1, R2, Durable Objects and Queues of wrangler.toml.
const TEST_CREDENTIALS_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
process.env.CREDENTIALS_KEY ??= TEST_CREDENTIALS_KEY;
const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));

// ORDERLY_TESTS=cost: only the cost tests (test/cost: counts of an order's operations, which spend
// most of their time waiting for alarms), run by `npm test` beside the chaos run; =unit: all the
// others. Unset: every test.
const MODE = process.env.ORDERLY_TESTS;
const ALL = MODE === "cost" ? ["test/cost/**/*.test.ts"] : ["test/**/*.test.ts", "src/**/*.test.ts"];
const SKIP = ["test/e2e/**", "node_modules/**", ...(MODE === "unit" ? ["test/cost/**"] : [])];
/**
 * Test files that need a workerd of their own (see the projects below). A file that waits on
 * orders flowing through queues and alarms belongs here: what it leaves running would slow or
 * count into the next file's.
 */
const OWN_RUNTIME = [
  "test/cost/**/*.test.ts",
  "test/flow/**/*.test.ts",
  "test/fuzz/**/*.test.ts",
  "test/notifications/**/*.test.ts",
  "test/**/*.flow.test.ts",
  // EXPLAIN QUERY PLAN over tables every other file writes to, some after ANALYZE.
  "test/ui/*-plan.test.ts",
  // Sign-in attempts are counted per address across the runtime.
  "test/ui/attempt-limits.test.ts",
  // Runs the retention sweep over every tenant, within its budget of rows a run.
  "test/ui/files.test.ts",
  // Hold, read or rebuild an inbox shard, which every tenant's deliveries share.
  "test/unit/inbox-schema.test.ts",
  "test/unit/object-schema.test.ts",
];

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          // A fixed test key; production keys come from `wrangler secret put`.
          CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
          // Compressed retry schedule so failure paths finish in milliseconds.
          RETRY_BASE_SECONDS: "0",
          RETRY_MAX_SECONDS: "0",
          STEP_MAX_ATTEMPTS: "4",
          STEP_RESEND_AFTER_SECONDS: "2",
          OUTBOUND_TIMEOUT_MS: "2000",
          CIRCUIT_FAILURE_THRESHOLD: "6",
          CIRCUIT_COOLDOWN_SECONDS: "1",
        },
        // The network is closed in tests: any fetch a test did not mock fails loudly.
        outboundService: (request: Request) =>
          new Response(`test network is closed: ${request.method} ${request.url}`, { status: 599 }),
      },
    }),
  ],
  test: {
    // Vitest's default is one worker fewer than the cores: one on a 2-core machine. The files mostly
    // wait (alarms, queues, polling), so two at a time took 228 s against 431 s there. The cost
    // tests run beside the chaos run (npm run test:slow), so they keep the default.
    ...(MODE === "cost" ? {} : { maxWorkers: Math.max(2, availableParallelism() - 1) }),
    projects: [
      // Most files share one workerd per Vitest worker: starting a workerd and importing the Worker
      // for each file took some 4 s a file, 90 % of the suite's time (README, Development).
      { extends: true, test: { name: "shared", isolate: false, include: ALL, exclude: [...SKIP, ...OWN_RUNTIME] } },
      // Files whose work goes on after them (orders still flowing, alarms, alerts) or that read what
      // the whole runtime did (operation meters, query plans over every tenant's rows, a limiter's
      // counts) each get a fresh workerd, storage included.
      { extends: true, test: { name: "own-runtime", include: MODE === "cost" ? ALL : OWN_RUNTIME, exclude: SKIP } },
    ],
    setupFiles: ["./test/setup.ts"],
    deps: {
      optimizer: {
        ssr: {
          enabled: true,
          include: [
            "hono",
            "hono/jsx",
            "hono/jsx/jsx-runtime",
            "hono/cookie",
            "hono/body-limit",
            "hono/http-exception",
            "hono/factory",
            "@hono/zod-openapi",
            "zod",
            "drizzle-orm",
            "drizzle-orm/sqlite-core",
            "drizzle-orm/d1",
            "fast-xml-parser",
            "jsonata",
            "papaparse",
            "fast-check",
          ],
        },
      },
    },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
