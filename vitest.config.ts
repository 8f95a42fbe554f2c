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
    // ORDERLY_TESTS=cost: only the cost tests (test/cost: counts of an order's operations, which spend
    // most of their time waiting for alarms), run by `npm test` beside the chaos run; =unit: all the
    // others. Unset: every test.
    include: process.env.ORDERLY_TESTS === "cost" ? ["test/cost/**/*.test.ts"] : ["test/**/*.test.ts", "src/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**", ...(process.env.ORDERLY_TESTS === "unit" ? ["test/cost/**"] : [])],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
