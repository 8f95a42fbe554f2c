/**
 * exportFile writes one file per step reference, whatever happens to the order's data between
 * runs (a renumbered order, a creation time that moved), and reports a changed order as a
 * difference for the alert sweep: compared by the rows, so a new delimiter or format is no change.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ActionResult } from "../../../src/connectors/contract";
import { exportFile } from "../../../src/connectors/files/files.export";
import { filesConnectionSettings } from "../../../src/connectors/files/files.settings";
import { type CanonicalOrder, orderSchema } from "../../../src/domain/order";
import { actionContext } from "../../helpers/action-context";

const REFERENCE = `orderly-${"cd".repeat(16)}-0`;
const tenant = () => `ten_${crypto.randomUUID().slice(0, 8)}`;

function order(over: Partial<CanonicalOrder["source"]> = {}, note = "Leave at the door"): CanonicalOrder {
  return orderSchema.parse({
    source: {
      connector: "woocommerce",
      orderId: "77",
      orderNumber: "1001",
      version: 1,
      createdAt: "2026-03-02T10:00:00Z",
      ...over,
    },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: { email: "ane@example.dk", firstName: "Ane", lastName: "Lund" },
    shippingAddress: { name: "Ane Lund", line1: "Vej 1", postcode: "1000", city: "København", country: "DK" },
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 2, unitPrice: 10000, discount: 0, tax: 4000, taxRateBp: 2500 }],
    shipping: [],
    discounts: [],
    payments: [],
    totals: { total: 20000, tax: 4000, discounts: 0, shipping: 0 },
    note,
  });
}

function run(
  tenantId: string,
  o: CanonicalOrder,
  opts: {
    prior?: ActionResult;
    settings?: Record<string, unknown>;
    connection?: Record<string, unknown>;
    connectionId?: string;
  } = {},
) {
  const { ctx } = actionContext(exportFile, {
    connection: {
      id: opts.connectionId ?? "con_files",
      tenantId,
      settings: filesConnectionSettings.parse(opts.connection ?? {}),
      credentials: {},
    },
    settings: opts.settings ?? {},
    reference: REFERENCE,
  });
  return exportFile.run(opts.prior ? { ...ctx, prior: opts.prior } : ctx, { order: o });
}

async function keys(tenantId: string): Promise<string[]> {
  return (await env.BLOBS.list({ prefix: `files/${tenantId}/` })).objects.map((o) => o.key);
}

describe("exportFile: one file per reference", () => {
  it("adopts the file its last run wrote (ctx.prior) when the order was renumbered and its creation time moved", async () => {
    const tenantId = tenant();
    const first = await run(tenantId, order());
    expect(first.created).toBe(true);
    // A sequential-numbers plugin renumbered the order; createdAt fell back to the version time.
    const renumbered = order({ orderNumber: "WC-2026-0042", createdAt: "2026-04-09T08:00:00Z" });
    const again = await run(tenantId, renumbered, { prior: first });
    expect(again).toMatchObject({ externalId: first.externalId, created: false });
    expect(await keys(tenantId)).toEqual([first.externalId]);
  });

  it("finds the file by its reference alone when no earlier result was recorded (written, then the attempt died)", async () => {
    const tenantId = tenant();
    const first = await run(tenantId, order());
    const again = await run(tenantId, order({ orderNumber: "WC-2026-0042", createdAt: "not a date" }));
    expect(again).toMatchObject({ externalId: first.externalId, created: false });
    expect(await keys(tenantId)).toEqual([first.externalId]);
  });

  it("does not adopt a prior key outside its own tenant and connection", async () => {
    const other = tenant();
    const foreign = await run(other, order());
    const tenantId = tenant();
    const mine = await run(tenantId, order(), { prior: foreign, connectionId: "con_other" });
    expect(mine.created).toBe(true);
    expect(mine.externalId.startsWith(`files/${tenantId}/con_other/`)).toBe(true);
    expect(await keys(other)).toEqual([foreign.externalId]);
  });
});

describe("exportFile: a changed order is a difference to alert", () => {
  it("reports the adopted file's order as changed, naming the file, in outputs.differences", async () => {
    const tenantId = tenant();
    const first = await run(tenantId, order());
    const changed = await run(tenantId, order({}, "Ring the bell"), { prior: first });
    expect(changed.created).toBe(false);
    expect(changed.outputs.changedSinceWritten).toBe(true);
    const differences = changed.outputs.differences as string[];
    expect(differences).toHaveLength(1);
    expect(differences[0]).toContain(String(first.outputs.filename));
    expect(differences[0]).toContain("tell the warehouse");
  });

  it("reports nothing when only the delimiter, the BOM or the step's format changed: the rows are the same", async () => {
    const tenantId = tenant();
    const first = await run(tenantId, order());
    for (const opts of [
      { connection: { csvDelimiter: "," } },
      { connection: { csvBom: false } },
      { settings: { format: "xml" } },
      { settings: { layout: "orderLines" } },
    ]) {
      const again = await run(tenantId, order(), { prior: first, ...opts });
      expect(again.created, JSON.stringify(opts)).toBe(false);
      expect(again.outputs.changedSinceWritten, JSON.stringify(opts)).toBe(false);
      expect(again.outputs.differences ?? [], JSON.stringify(opts)).toEqual([]);
    }
  });
});
