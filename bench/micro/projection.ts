// Micro-benchmark: CPU to build the D1 statements of one projection of a three-step transfer
// (src/durable/order-projection.ts), which the order's object does a few times per order, on the
// step path. Run in Node: npx tsx bench/micro/projection.ts [--n=20000]
// 2026-11-27: 1.9 µs per projection with the statements written out; 380 µs when drizzle built them.
import { projectTransfer, type StepRow, type TransferRow } from "../../src/durable/order-projection";

const n = Number(process.argv.find((a) => a.startsWith("--n="))?.slice(4) ?? 20_000);
const who = { tenantId: "ten_bench", connectionId: "con_shop", orderId: "1001" };
const transfer: TransferRow = {
  id: "tr_bench",
  flow_id: "flow_bench",
  stage: "paid",
  occurrence: "",
  status: "running",
  steps: JSON.stringify(
    ["createInvoice", "bookInvoice", "registerPayment"].map((action) => ({ target: "con_economic", action })),
  ),
  input: JSON.stringify({
    order: {
      source: { orderNumber: "1001", version: 1 },
      customer: { email: "ada@example.com", firstName: "Ada", lastName: "Lovelace" },
      totals: { total: 24_900 },
      currency: "DKK",
    },
  }),
  error: null,
  created_at: 1_000,
  updated_at: 2_000,
};
const steps: StepRow[] = [0, 1, 2].map((i) => ({
  transfer_id: transfer.id,
  step_index: i,
  status: i === 0 ? "done" : "waiting",
  attempts: i === 0 ? 1 : 0,
  result: i === 0 ? JSON.stringify({ externalId: "17", created: true, outputs: { draftInvoiceNumber: 17 } }) : null,
  error: null,
}));

for (let i = 0; i < 2_000; i++) projectTransfer(who, transfer, steps);
const start = performance.now();
for (let i = 0; i < n; i++) projectTransfer(who, transfer, steps);
console.log(`${(((performance.now() - start) / n) * 1000).toFixed(1)} µs per three-step projection (${n} runs)`);
