/**
 * The files connector's exportFile action, run as the step consumer runs it, against the test's R2:
 * the columns of each layout, escaping in CSV and XML, adoption on a re-run, and its refusals.
 */
import { env } from "cloudflare:test";
import { XMLParser } from "fast-xml-parser";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { filesConnector } from "../../../src/connectors/files";
import { exportFile } from "../../../src/connectors/files/files.export";
import { ORDER_LINE_COLUMNS, PICK_LIST_COLUMNS } from "../../../src/connectors/files/files.layouts";
import { filesConnectionSettings } from "../../../src/connectors/files/files.settings";
import { listFiles, readFile } from "../../../src/connectors/files/files.store";
import { OrderlyError } from "../../../src/domain/errors";
import { type CanonicalOrder, orderSchema } from "../../../src/domain/order";
import { actionContext } from "../../helpers/action-context";

/** A name with every character that needs escaping: both delimiters, quotes, a line break, XML's five. */
const AWKWARD = 'Ane "Bo"; Lund, <ApS> & Søn\'s\nBack door';

function order(over: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "shopify", orderId: "9001", orderNumber: "#1001", version: 1, createdAt: "2026-03-02T10:00:00Z" },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: { email: "ane@example.dk", firstName: "Ane", lastName: "Lund" },
    billingAddress: { name: "Billing Person", line1: "Billingvej 9", postcode: "8000", city: "Aarhus", country: "DK" },
    shippingAddress: { name: AWKWARD, line1: "Vej 1", line2: "2. tv", postcode: "1000", city: "København", country: "DK" },
    lines: [
      {
        id: "l1",
        sku: "TS-1",
        title: "T-shirt, blue",
        quantity: 2,
        unitPrice: 19900,
        discount: 1000,
        tax: 7760,
        taxRateBp: 2500,
      },
      { id: "l2", sku: "=HYPERLINK()", title: "Cap", quantity: 1, unitPrice: 9900, discount: 0, tax: 1980, taxRateBp: 2500 },
      { id: "l3", sku: "GONE", title: "Removed", quantity: 0, unitPrice: 100, discount: 0, tax: 20, taxRateBp: 2500 },
    ],
    shipping: [{ title: "GLS Pakkeshop", code: "gls", price: 5000, discount: 0, tax: 1000, taxRateBp: 2500 }],
    discounts: [],
    payments: [],
    totals: { total: 53700, tax: 10740, discounts: 1000, shipping: 5000 },
    note: "Leave at the door",
    ...over,
  });
}

function context(settings: Record<string, unknown>, connection: Record<string, unknown> = {}, tenantId = tenant()) {
  return actionContext(exportFile, {
    connection: { id: "con_files", tenantId, settings: filesConnectionSettings.parse(connection), credentials: {} },
    settings,
    reference: `orderly-${"ab".repeat(16)}-1`,
  });
}

const tenant = () => `ten_${crypto.randomUUID().slice(0, 8)}`;

async function body(tenantId: string, key: string): Promise<string> {
  const { object } = await readFile(env, tenantId, key);
  return object.text();
}

describe("exportFile", () => {
  it("is a files connector with no credentials and the exportFile action", () => {
    expect(filesConnector).toMatchObject({ id: "files", category: "files" });
    expect(Object.keys(filesConnector.actions ?? {})).toEqual(["exportFile"]);
    expect(filesConnector.credentials.parse({})).toEqual({});
  });

  it("writes a CSV pick list: one row per line to pick, the ship-to address, and every awkward character escaped", async () => {
    const tenantId = tenant();
    const { ctx, mapped } = context(
      { layout: "pickList", format: "csv" },
      { csvDelimiter: ";", filenamePrefix: "pick-" },
      tenantId,
    );
    const result = await exportFile.run(ctx, { order: order() });
    expect(result.created).toBe(true);
    const key = result.externalId;
    expect(key).toMatch(new RegExp(`^files/${tenantId}/con_files/\\d{13}-2026-03-02-1001-[0-9a-f]{12}\\.csv$`));
    expect(result.outputs).toMatchObject({
      filename: expect.stringMatching(/^pick-2026-03-02-1001-[0-9a-f]{12}\.csv$/),
      rows: 2,
    });

    const text = await body(tenantId, key);
    expect(text.split("\r\n")[0]).toBe(PICK_LIST_COLUMNS.join(";"));
    // The delimiter, the quotes and the line break are inside one quoted cell, quotes doubled.
    expect(text).toContain('"Ane ""Bo""; Lund, <ApS> & Søn\'s\nBack door"');
    const parsed = Papa.parse(text, { delimiter: ";", header: true, skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toHaveLength(2);
    expect(parsed.data[0]).toMatchObject({
      orderNumber: "#1001",
      orderDate: "2026-03-02",
      sku: "TS-1",
      name: "T-shirt, blue",
      quantity: "2",
      shipToName: AWKWARD,
      shipToAddress1: "Vej 1",
      shipToAddress2: "2. tv",
      shipToPostcode: "1000",
      shipToCity: "København",
      shipToCountry: "DK",
      email: "ane@example.dk",
      shippingMethod: "GLS Pakkeshop",
      note: "Leave at the door",
    });
    // A cell a spreadsheet would run as a formula is neutralised.
    expect(parsed.data[1]).toMatchObject({ sku: "'=HYPERLINK()", name: "Cap", quantity: "1" });

    // The mapped snapshot is a bounded preview, not the file.
    expect(mapped).toHaveLength(1);
    expect(mapped[0]).toMatchObject({ key, layout: "pickList", format: "csv", rowCount: 2 });

    // The listing needs no database: what it shows comes from the key and the object's metadata.
    const listed = await listFiles(env, tenantId, { limit: 10 });
    expect(listed.files).toEqual([
      expect.objectContaining({ key, orderNumber: "#1001", orderId: "9001", stage: "paid", layout: "pickList", rows: 2 }),
    ]);
  });

  it("writes order lines as XML with prices and VAT as decimals, the names' special characters escaped", async () => {
    const tenantId = tenant();
    const { ctx } = context({ layout: "orderLines", format: "xml" }, {}, tenantId);
    const base = order();
    const cap = 'Cap <ApS> & "Søn\'s"';
    const lines0 = base.lines.map((l) => (l.id === "l2" ? { ...l, title: cap } : l));
    const result = await exportFile.run(ctx, { order: { ...base, lines: lines0 } });
    expect(result.externalId).toMatch(/\.xml$/);
    const text = await body(tenantId, result.externalId);
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(text).toContain("<name>Cap &lt;ApS&gt; &amp; &quot;Søn&apos;s&quot;</name>");
    const lines = new XMLParser({ parseTagValue: false }).parse(text).orderLines.line as Array<Record<string, string>>;
    expect(Object.keys(lines[0] ?? {})).toEqual([...ORDER_LINE_COLUMNS]);
    expect(lines.map((l) => l.type)).toEqual(["product", "product", "shipping"]);
    expect(lines[1]?.name).toBe(cap);
    // 2 × 199.00 − 10.00 discount, prices incl. VAT: 388.00 gross, 77.60 VAT, 310.40 net.
    expect(lines[0]).toMatchObject({
      lineNumber: "1",
      sku: "TS-1",
      quantity: "2",
      unitPrice: "199.00",
      pricesIncludeVat: "true",
      discount: "10.00",
      net: "310.40",
      vatRate: "25",
      vat: "77.60",
      total: "388.00",
      currency: "DKK",
    });
    // The totals add up to what the customer paid.
    const paid = lines.reduce((sum, l) => sum + Math.round(Number(l.total) * 100), 0);
    expect(paid).toBe(53700);
  });

  it("escapes XML's special characters in a pick list written as XML", async () => {
    const tenantId = tenant();
    const { ctx } = context({ layout: "pickList" }, { defaultFormat: "xml" }, tenantId);
    const result = await exportFile.run(ctx, { order: order() });
    const text = await body(tenantId, result.externalId);
    expect(text).toContain("<shipToName>Ane &quot;Bo&quot;; Lund, &lt;ApS&gt; &amp; Søn&apos;s\nBack door</shipToName>");
    const parsed = new XMLParser({ parseTagValue: false }).parse(text);
    expect(parsed.pickList.line[0].shipToName).toBe(AWKWARD);
    expect(parsed.pickList.line).toHaveLength(2);
  });

  it("adopts the file on a re-run: one object, created false, even after the step's format changed", async () => {
    const tenantId = tenant();
    const first = await exportFile.run(context({ format: "csv" }, {}, tenantId).ctx, { order: order() });
    const again = await exportFile.run(context({ format: "csv" }, {}, tenantId).ctx, { order: order() });
    expect(again).toMatchObject({ externalId: first.externalId, created: false, outputs: { changedSinceWritten: false } });
    const otherFormat = await exportFile.run(context({ format: "xml" }, {}, tenantId).ctx, {
      order: order({ note: "changed" }),
    });
    expect(otherFormat).toMatchObject({
      externalId: first.externalId,
      created: false,
      outputs: { format: "csv", changedSinceWritten: true },
    });
    const listed = await env.BLOBS.list({ prefix: `files/${tenantId}/` });
    expect(listed.objects.map((o) => o.key)).toEqual([first.externalId]);
  });

  it("refuses, for good, an order with nothing to pick, naming the order", async () => {
    const { ctx } = context({ layout: "pickList" });
    const error = await exportFile
      .run(ctx, { order: order({ lines: [{ id: "l", title: "Gone", quantity: 0, unitPrice: 0, discount: 0, tax: 0 }] }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderlyError);
    expect(error).toMatchObject({ errorClass: "validation", code: "files_nothing_to_export", retryable: false });
    expect((error as Error).message).toContain("#1001 has no lines to pick");
  });

  it("refuses, for good, an order whose file would be too big", async () => {
    const tenantId = tenant();
    const line = { id: "l", sku: "X", title: "x".repeat(2000), quantity: 1, unitPrice: 100, discount: 0, tax: 20 };
    const { ctx, mapped } = context({ layout: "pickList" }, {}, tenantId);
    const lines = Array.from({ length: 1200 }, (_, i) => ({ ...line, id: String(i) }));
    const error = await exportFile.run(ctx, { order: order({ lines }) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ errorClass: "too_large", code: "files_too_large", retryable: false });
    expect((error as Error).message).toContain("order #1001 would be too big");
    expect(mapped).toEqual([]);
    expect((await env.BLOBS.list({ prefix: `files/${tenantId}/` })).objects).toEqual([]);
  });

  it("keeps the mapped snapshot small for a large file", async () => {
    const tenantId = tenant();
    const lines = Array.from({ length: 300 }, (_, i) => ({
      id: String(i),
      sku: `SKU-${i}`,
      title: "A product with a long name ".repeat(5),
      quantity: 1,
      unitPrice: 100,
      discount: 0,
      tax: 20,
    }));
    const { ctx, mapped } = context({}, {}, tenantId);
    const result = await exportFile.run(ctx, { order: order({ lines }) });
    expect(result.outputs.rows).toBe(300);
    const snapshot = mapped[0] as { rows: unknown[]; preview: string; rowCount: number; bytes: number };
    expect(snapshot.rowCount).toBe(300);
    expect(snapshot.rows).toHaveLength(20);
    expect(snapshot.bytes).toBeGreaterThan(JSON.stringify(snapshot).length);
  });
});
