// Micro-benchmark: CPU to read one WooCommerce order webhook before the answer (`route`: headers, the
// body's fingerprint, JSON, the order's id and number) and after it (`parse`: the payload validated
// and mapped, refunds included, in the inbox's hand-off). Bodies are the test fixtures with fresh
// ids; zod runs without its JIT, as in workerd. Run in Node:
//   npx tsx bench/micro/woocommerce-intake.ts [--n=20000]
// 2026-11-28 (three runs): route 35 µs, parse 171–188 µs a delivery (89–101 and 228–232 µs with the
// fingerprint in BigInt).
import { readFileSync } from "node:fs";
import { z } from "zod";

z.config({ jitless: true });

const { parse, route } = await import("../../src/connectors/woocommerce/woocommerce.parse");

const n = Number(process.argv.find((a) => a.startsWith("--n="))?.slice(4) ?? 20_000);
const fixtures = ["order-tax-exclusive", "order-completed", "order-partial-refund", "order-negative-fee-split"].map((name) =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/woocommerce/${name}.json`, import.meta.url), "utf8")),
);
const encoder = new TextEncoder();
const bodies: Uint8Array[] = Array.from({ length: 64 }, (_, i) =>
  encoder.encode(JSON.stringify({ ...fixtures[i % fixtures.length], id: 7000 + i })),
);
const headers = new Headers({
  "x-wc-webhook-topic": "order.updated",
  "x-wc-webhook-id": "12",
  "x-wc-webhook-delivery-id": "abc",
});

function time(name: string, work: (body: Uint8Array) => unknown): void {
  for (let i = 0; i < 2_000; i++) work(bodies[i % bodies.length]!);
  const start = performance.now();
  for (let i = 0; i < n; i++) work(bodies[i % bodies.length]!);
  console.log(`${name.padEnd(36)} ${(((performance.now() - start) / n) * 1000).toFixed(1)} µs`);
}

const sizes = bodies.map((b) => b.byteLength);
console.log(`WooCommerce order.updated, ${Math.min(...sizes)}–${Math.max(...sizes)} bytes, ${n} runs`);
time("route (before the answer)", (body) => route({ body, headers }));
time("parse (after the answer)", (body) => parse({ body, headers }));
