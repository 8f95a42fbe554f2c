/**
 * Shopify refunds that give duties back. The refund's `duties` (REST/webhook shape:
 * `duties: [{ duty_id, amount_set: { shop_money, presentment_money } }]`) are read in the refund's
 * money and credited on a duties line without VAT, so the credit note equals the money refunded.
 * The order is order-duties.json: a DKK shop's order paid in USD, a 120.00 sweater, 15.00 shipping
 * and 8.40 USD (57.12 DKK) of duties, 143.40 USD in all; an export sale, no VAT.
 */
import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, spreadChecks } from "../../src/domain/accounting/build-document";
import { type CanonicalOrder, type CanonicalRefund, orderSchema } from "../../src/domain/order";
import { shopifyDelivery } from "../fixtures/shopify";
import orderDuties from "../fixtures/shopify/order-duties.json?raw";

const SECRET = "test-secret";
const settings = accountingSettingsSchema.parse({});

type Json = Record<string, unknown>;
const set = (shop: string, presentment?: string) => ({
  shop_money: { amount: shop, currency_code: "DKK" },
  ...(presentment === undefined ? {} : { presentment_money: { amount: presentment, currency_code: "USD" } }),
});

/** A refund of order-duties: the sweater back (120.00 USD / 816.00 DKK) and, unless left out, its duties. */
function refundBody(options: { duties?: unknown; amount?: string; lines?: boolean } = {}): Json {
  const body: Json = {
    id: 9900000093,
    order_id: 5812345678901,
    created_at: "2026-03-12T10:00:00+01:00",
    processed_at: "2026-03-12T10:00:00+01:00",
    note: null,
    refund_line_items:
      options.lines === false
        ? []
        : [
            {
              id: 9910000093,
              line_item_id: 14200000001,
              quantity: 1,
              restock_type: "return",
              subtotal: 816.0,
              total_tax: 0.0,
              subtotal_set: set("816.00", "120.00"),
              total_tax_set: set("0.00", "0.00"),
              line_item: { id: 14200000001, sku: "SWEATER-WOOL-L" },
            },
          ],
    order_adjustments: [],
    transactions: [
      { kind: "refund", status: "success", gateway: "shopify_payments", amount: options.amount ?? "128.40", currency: "USD" },
    ],
  };
  if (options.duties !== undefined) body.duties = options.duties;
  return body;
}

const fullDuties = [{ duty_id: 9800000001, amount_set: set("57.12", "8.40"), extra: "kept out" }];

async function parseOne(topic: string, body: object): Promise<SourceEvent> {
  const events = parse(await shopifyDelivery(topic, body, SECRET));
  if (!Array.isArray(events) || events.length !== 1 || !events[0]) throw new Error("expected exactly one event");
  return events[0];
}

async function refundOf(body: object): Promise<CanonicalRefund> {
  const event = await parseOne("refunds/create", body);
  if (event.object.type !== "refund") throw new Error("expected a refund");
  return event.object.refund;
}

async function dutiesOrder(): Promise<CanonicalOrder> {
  const event = await parseOne("orders/updated", JSON.parse(orderDuties) as object);
  if (event.object.type !== "order") throw new Error("expected an order");
  return event.object.order;
}

/** The duties order as a Danish domestic sale: 25 % VAT on the sweater and shipping, none on the duties. */
async function domestic(): Promise<CanonicalOrder> {
  const order = await dutiesOrder();
  const dk = { ...order.shippingAddress, country: "DK" };
  const lines = order.lines.map((l) => ({ ...l, tax: (l.unitPrice * l.quantity) / 4, taxRateBp: 2500 }));
  const shipping = order.shipping.map((s) => ({ ...s, tax: s.price / 4, taxRateBp: 2500 }));
  const tax = [...lines, ...shipping].reduce((sum, l) => sum + l.tax, 0);
  const total = order.totals.total + tax;
  return orderSchema.parse({
    ...order,
    shippingAddress: dk,
    billingAddress: dk,
    lines,
    shipping,
    totals: { ...order.totals, total, tax },
    payments: order.payments.map((p) => ({ ...p, amount: total })),
  });
}

/** The domestic order with `duties` (minor units) of duties instead of its 8.40. */
async function domesticWithDuties(duties: number): Promise<CanonicalOrder> {
  const order = await domestic();
  const before = (order.fees ?? []).filter((f) => f.duties).reduce((sum, f) => sum + f.amount, 0);
  const fees = (order.fees ?? []).map((f) => (f.duties ? { ...f, amount: duties } : f));
  const total = order.totals.total - before + duties;
  return orderSchema.parse({
    ...order,
    fees,
    totals: { ...order.totals, total },
    payments: order.payments.map((p) => ({ ...p, amount: total })),
  });
}

function refund(total: number, duties?: number, lines: CanonicalRefund["lines"] = []): CanonicalRefund {
  return {
    source: { connector: "shopify", orderId: "5812345678901", refundId: "r1", createdAt: "2026-03-12T10:00:00Z" },
    currency: "USD",
    lines,
    shipping: 0,
    adjustments: 0,
    ...(duties === undefined ? {} : { duties }),
    total,
  };
}

const kinds = (lines: Array<{ kind: string; vatRateBp: number; net: number; vat: number }>) =>
  lines.map((l) => [l.kind, l.vatRateBp, l.net, l.vat]);

describe("Shopify refund duties: mapping", () => {
  it("reads the duties in presentment money, like the refund's lines", async () => {
    const mapped = await refundOf(refundBody({ duties: fullDuties }));
    expect(mapped.currency).toBe("USD");
    expect(mapped.duties).toBe(840);
    expect(mapped.total).toBe(12840);
    expect(mapped.lines.map((l) => l.subtotal)).toStrictEqual([12000]);
  });

  it("maps the whole refund in shop money when a duty lacks its presentment amount, never a mix", async () => {
    const mapped = await refundOf({
      ...refundBody({ duties: [{ duty_id: 9800000001, amount_set: set("57.12") }] }),
      transactions: [{ kind: "refund", status: "success", amount: "873.12", currency: "DKK" }],
    });
    expect(mapped.currency).toBe("DKK");
    expect(mapped.duties).toBe(5712);
    expect(mapped.lines.map((l) => l.subtotal)).toStrictEqual([81600]);
    expect(mapped.total).toBe(87312);
  });

  it("reads the duties of a shop selling in its own currency from the shop money", async () => {
    const own = (amount: string) => ({
      shop_money: { amount, currency_code: "DKK" },
      presentment_money: { amount, currency_code: "DKK" },
    });
    const mapped = await refundOf({
      ...refundBody({
        duties: [
          { duty_id: 1, amount_set: own("57.12") },
          { duty_id: 2, amount_set: own("10.00") },
        ],
      }),
      refund_line_items: [],
      transactions: [{ kind: "refund", status: "success", amount: "67.12", currency: "DKK" }],
    });
    expect(mapped.currency).toBe("DKK");
    expect(mapped.duties).toBe(6712);
  });

  it("carries no duties for a refund without a duties key, with an empty list, or with one it cannot read", async () => {
    const without = await refundOf(refundBody({ amount: "120.00" }));
    expect("duties" in without).toBe(false);
    const empty = await refundOf(refundBody({ duties: [], amount: "120.00" }));
    expect("duties" in empty).toBe(false);
    expect(empty).toStrictEqual(without);
    const unreadable = await refundOf(refundBody({ duties: [{ duty_id: 1 }], amount: "120.00" }));
    expect("duties" in unreadable).toBe(false);
    const zero = await refundOf(refundBody({ duties: [{ amount_set: set("0.00", "0.00") }], amount: "120.00" }));
    expect("duties" in zero).toBe(false);
  });
});

describe("Shopify refund duties: the credit note", () => {
  it("credits the duties on a duties line without VAT, so the credit note equals the money refunded", async () => {
    const order = await dutiesOrder();
    const note = buildCreditNoteDocument(order, await refundOf(refundBody({ duties: fullDuties })), settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.difference).toBe(0);
    expect(note.totals).toStrictEqual({ net: 12840, vat: 0, total: 12840 });
    expect(kinds(note.lines)).toStrictEqual([
      ["product", 0, 12000, 0],
      ["duties", 0, 840, 0],
    ]);
    // The same text as the invoice's duties line.
    expect(note.lines.at(-1)?.description).toBe("Duties");
  });

  it("credits the duties without VAT on a sale that charges VAT, the VAT credited being the line's", async () => {
    const order = await domestic();
    const line = order.lines[0]!;
    const withLine = refund(15000 + 840, 840, [
      { lineId: line.id, quantity: 1, subtotal: line.unitPrice, tax: line.tax, restock: true },
    ]);
    const note = buildCreditNoteDocument(order, withLine, settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.difference).toBe(0);
    expect(kinds(note.lines)).toStrictEqual([
      ["product", 2500, 12000, 3000],
      ["duties", 0, 840, 0],
    ]);
    expect(note.totals).toStrictEqual({ net: 12840, vat: 3000, total: 15840 });
    expect(note.lumpBesideDuties).toBeUndefined();
  });

  it("takes the unitemised shipping (API 2024-10 on) beside the lines and the duties", async () => {
    const order = await dutiesOrder();
    const note = buildCreditNoteDocument(order, await refundOf(refundBody({ duties: fullDuties, amount: "143.40" })), settings);
    expect(note.mismatch).toBeUndefined();
    expect(kinds(note.lines)).toStrictEqual([
      ["product", 0, 12000, 0],
      ["shipping", 0, 1500, 0],
      ["duties", 0, 840, 0],
    ]);
  });

  it("converts the duties line like the rest when invoicing in the shop's currency", async () => {
    const order = await dutiesOrder();
    const note = buildCreditNoteDocument(
      order,
      await refundOf(refundBody({ duties: fullDuties })),
      accountingSettingsSchema.parse({ invoiceCurrency: "shop" }),
    );
    expect(note.currency).toBe("DKK");
    expect(note.mismatch).toBeUndefined();
    expect(note.lines.find((l) => l.kind === "duties")).toMatchObject({ net: 5712, vatRateBp: 0, vat: 0 });
  });

  it("asks no person to check a refund without lines that states all of the order's duties", async () => {
    const order = await domestic();
    const note = buildCreditNoteDocument(order, refund(5000 + 840, 840), settings);
    expect(note.mismatch).toBeUndefined();
    expect(kinds(note.lines)).toStrictEqual([
      ["product", 2500, 4000, 1000],
      ["duties", 0, 840, 0],
    ]);
    expect(note.lumpBesideDuties).toBeUndefined();
    expect(spreadChecks(note, "credit note 7", "#1001")).toStrictEqual([]);
  });

  it("still asks about the duties a refund without lines does not state, naming those it credits", async () => {
    const order = await domestic();
    const note = buildCreditNoteDocument(order, refund(5000 + 300, 300), settings);
    expect(note.lines.filter((l) => l.kind === "duties").map((l) => l.net)).toStrictEqual([300]);
    expect(note.lumpBesideDuties).toStrictEqual({ gross: 5000, duties: 840 });
    expect(spreadChecks(note, "credit note 7", "#1001")).toStrictEqual([
      "VAT: credit note 7 credits 50.00 USD refunded without lines at the VAT of what was sold, but order #1001 also charged 8.40 USD of duties without VAT (credit note 7 credits 3.00 USD of them on its duties line); if this refund, alone or with the order's other refunds, gave the rest back, move that amount to the duties product without VAT and correct the VAT by hand.",
    ]);
  });

  it("credits the stated duties once on a whole-order refund, with or without lines", async () => {
    const order = await domestic();
    const noLines = buildCreditNoteDocument(order, refund(order.totals.total, 840), settings);
    expect(noLines.mismatch).toBeUndefined();
    expect(noLines.lines.filter((l) => l.kind === "duties").map((l) => [l.net, l.vat])).toStrictEqual([[840, 0]]);
    expect(noLines.totals.vat).toBe(order.totals.tax);
    const line = order.lines[0]!;
    const everything = refund(order.totals.total, 840, [
      { lineId: line.id, quantity: 1, subtotal: line.unitPrice, tax: line.tax, restock: true },
    ]);
    const withLines = buildCreditNoteDocument(order, everything, settings);
    expect(withLines.mismatch).toBeUndefined();
    expect(withLines.lines.filter((l) => l.kind === "duties").map((l) => l.net)).toStrictEqual([840]);
    expect(withLines.totals.total).toBe(order.totals.total);
  });

  it("never credits more duties than the order's invoice booked: the rest is a difference for a person", async () => {
    const order = await domestic();
    const note = buildCreditNoteDocument(order, refund(2000, 2000), settings);
    expect(note.lines.filter((l) => l.kind === "duties").map((l) => l.net)).toStrictEqual([840]);
    // Not spread over the sales with VAT either.
    expect(note.lines.filter((l) => l.kind === "product")).toStrictEqual([]);
    expect(note.mismatch).toContain("a difference of 11.60 USD");
    expect(note.warnings).toContain(
      "The refund gives back 20.00 USD of duties, but the invoice of order #1093 booked 8.40 USD: only that is credited on the duties line; credit the rest by hand if it was due.",
    );
  });
});

describe("Shopify refund duties: money short of the duties stated", () => {
  const sweater = (order: CanonicalOrder): CanonicalRefund["lines"] => {
    const line = order.lines[0]!;
    return [{ lineId: line.id, quantity: 1, subtotal: line.unitPrice, tax: line.tax, restock: true }];
  };

  it("takes a refund discrepancy off the duties it states, not off the sales with VAT", async () => {
    const order = await domesticWithDuties(2000);
    // The duties refunded, but 15.00 sent: Shopify adds a refund_discrepancy of -5.00.
    const note = buildCreditNoteDocument(order, { ...refund(1500, 2000), adjustments: -500 }, settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.difference).toBe(0);
    expect(kinds(note.lines)).toStrictEqual([["duties", 0, 1500, 0]]);
    expect(note.totals).toStrictEqual({ net: 1500, vat: 0, total: 1500 });
    expect(note.lumpBesideDuties).toBeUndefined();
    expect(note.warnings).toStrictEqual([
      "Refund r1 states 20.00 USD of duties, but the money it gave back beyond its lines and shipping covers only 15.00 USD of them: the credit note credits 15.00 USD of duties without VAT and not the 5.00 USD kept back; if those were refunded another way, credit them by hand.",
    ]);
  });

  it("credits only the duties the money covers when a refund without lines gives back less than it states", async () => {
    const order = await domesticWithDuties(2000);
    const note = buildCreditNoteDocument(order, refund(1500, 2000), settings);
    expect(note.mismatch).toBeUndefined();
    expect(kinds(note.lines)).toStrictEqual([["duties", 0, 1500, 0]]);
    expect(note.totals).toStrictEqual({ net: 1500, vat: 0, total: 1500 });
    expect(note.lumpBesideDuties).toBeUndefined();
    expect(note.warnings).toHaveLength(1);
    expect(note.warnings[0]).toContain("covers only 15.00 USD of them");
  });

  it("credits no duties when a refund with lines gives back no more than its lines", async () => {
    const order = await domestic();
    const note = buildCreditNoteDocument(order, refund(15000, 840, sweater(order)), settings);
    expect(note.mismatch).toBeUndefined();
    expect(kinds(note.lines)).toStrictEqual([["product", 2500, 12000, 3000]]);
    expect(note.totals).toStrictEqual({ net: 12000, vat: 3000, total: 15000 });
    expect(note.warnings).toStrictEqual([
      "Refund r1 states 8.40 USD of duties, but the money it gave back beyond its lines and shipping covers only 0.00 USD of them: the credit note credits 0.00 USD of duties without VAT and not the 8.40 USD kept back; if those were refunded another way, credit them by hand.",
    ]);
  });

  it("asks a person to check a refund with lines whose discrepancy is taken off the sales beside the duties it states", async () => {
    const order = await domestic();
    const short = { ...refund(15000, 840, sweater(order)), adjustments: -840 };
    const note = buildCreditNoteDocument(order, short, settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.totals.total).toBe(15000);
    expect(note.lumpBesideDuties).toStrictEqual({ gross: -840, duties: 840 });
    expect(spreadChecks(note, "credit note 7", "#1001")).toStrictEqual([
      "VAT: credit note 7 takes 8.40 USD the refund kept back off the sales at their VAT, beside 8.40 USD of duties it credits without VAT (order #1001 charged 8.40 USD of them); if that money was kept off the duties, credit that much less on the duties line and correct the VAT by hand.",
    ]);
  });

  it("keeps a discrepancy beyond the duties on the sales, and asks a person to check it", async () => {
    const order = await domesticWithDuties(2000);
    // 5.00 of shipping stated and the duties, but only 2.00 sent.
    const short = { ...refund(200, 2000), shipping: 500, adjustments: -2300 };
    const note = buildCreditNoteDocument(order, short, settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.totals.total).toBe(200);
    expect(note.lines.filter((l) => l.kind === "duties")).toStrictEqual([]);
    expect(note.lumpBesideDuties).toStrictEqual({ gross: -300, duties: 2000 });
    expect(spreadChecks(note, "credit note 7", "#1001")).toHaveLength(1);
    expect(note.warnings[0]).toContain("covers only 0.00 USD of them");
  });
});
