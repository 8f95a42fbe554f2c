// Micro-benchmark: CPU to read one Shopify order webhook (the benchmark's 3–6 KB bodies) before the
// answer (`route`: headers, JSON, the order's id and test flag) and after it (`parse`: the payload
// validated and mapped, in the inbox's hand-off), and of the two parts of parse. Zod runs without
// its JIT, as in workerd (no code generation from strings there). Run in Node:
//   npx tsx bench/micro/shopify-intake.ts [--n=20000]
// 2026-11-27 night (three runs): route 37–43 µs, parse 179–230 µs a delivery (the JSON alone 54–62 µs).
import { z } from "zod";

z.config({ jitless: true });

const { parse, parseShopifyJson, route } = await import("../../src/connectors/shopify/shopify.parse");
const { shopifyOrderSchema } = await import("../../src/connectors/shopify/shopify.payload");
// @ts-expect-error: a plain ES module without types
const { deliveries } = await import("../lib/shopify-orders.mjs");

const n = Number(process.argv.find((a) => a.startsWith("--n="))?.slice(4) ?? 20_000);
const source = deliveries({ secret: "s", topic: "orders/paid", mix: { redelivery: 0, badSignature: 0 }, firstKey: 1000 });
const encoder = new TextEncoder();
const bodies: Uint8Array[] = Array.from({ length: 64 }, () => encoder.encode(source.next().body));
const headers = new Headers({ "x-shopify-topic": "orders/paid", "x-shopify-webhook-id": "w1", "x-shopify-event-id": "e1" });

function time(name: string, work: (body: Uint8Array) => unknown): void {
  for (let i = 0; i < 2_000; i++) work(bodies[i % bodies.length]!);
  const start = performance.now();
  for (let i = 0; i < n; i++) work(bodies[i % bodies.length]!);
  console.log(`${name.padEnd(36)} ${(((performance.now() - start) / n) * 1000).toFixed(1)} µs`);
}

console.log(`Shopify orders/paid, ${bodies[0]!.byteLength}–${Math.max(...bodies.map((b) => b.byteLength))} bytes, ${n} runs`);
time("JSON only (parseShopifyJson)", (body) => parseShopifyJson(body));
time("JSON + payload schema (zod)", (body) => shopifyOrderSchema.safeParse(parseShopifyJson(body)));
time("route (before the answer)", (body) => route({ body, headers }));
time("parse (after the answer)", (body) => parse({ body, headers }));
