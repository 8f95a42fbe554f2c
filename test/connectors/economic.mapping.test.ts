import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  bookedDifferences,
  bookInvoiceSettings,
  createInvoiceSettings,
  customerLookup,
  describeEconomicError,
  documentBody,
  draftFromPrevious,
  economicConnector,
  economicCredentials,
  economicLines,
  economicReference,
  eqFilter,
  escapeFilterValue,
  exchangeFields,
  invoiceNumberFromOrderNumber,
  paidByGateway,
  per100,
  planProduct,
  registerPaymentSettings,
  resourceId,
  restockNotes,
  sendInvoiceEmailSettings,
} from "../../src/connectors/economic";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import { OrderlyError } from "../../src/domain/errors";
import { type CanonicalOrder, type Line, orderSchema } from "../../src/domain/order";
import { refundOf } from "../mocks/economic.mock.fixtures";

const settings = createInvoiceSettings.parse({});

function order(lines: Partial<Line>[], overrides: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "shopify", orderId: "1", orderNumber: "#1", version: 1, createdAt: "2025-11-03T10:00:00Z" },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: { email: "ane@example.dk", firstName: "Ane", lastName: "Lund" },
    lines: lines.map((l, i) => ({ id: `l${i}`, title: `Line ${i}`, quantity: 1, unitPrice: 0, discount: 0, tax: 0, ...l })),
    shipping: [],
    discounts: [],
    payments: [],
    totals: { total: 0, tax: 0, discounts: 0, shipping: 0 },
    ...overrides,
  });
}

/** The document's lines as e-conomic lines, products as settings plan them (SKUs unchecked). */
function draftInvoiceLines(o: CanonicalOrder, s = settings) {
  const document = buildInvoiceDocument(o, s);
  const products = document.lines.map((l) => {
    const plan = planProduct(l, document, s);
    return "sku" in plan ? plan.sku : plan.productNumber;
  });
  return economicLines(document, products);
}

describe("e-conomic line mapping", () => {
  it("turns a VAT-inclusive 199.00 at 25% into a net unit price of 159.20", () => {
    const [line] = draftInvoiceLines(order([{ sku: "TS-1", unitPrice: 19900, tax: 3980, taxRateBp: 2500 }]));
    expect(line).toEqual({
      lineNumber: 1,
      product: { productNumber: "TS-1" },
      description: "Line 0",
      quantity: 1,
      unitNetPrice: 159.2,
    });
  });

  it("takes the line discount off before dividing by the quantity", () => {
    // 2 × 100.00 − 20.00 discount = 180.00 gross, of which 36.00 VAT: 144.00 net, 72.00 a unit.
    const [line] = draftInvoiceLines(order([{ quantity: 2, unitPrice: 10000, discount: 2000, tax: 3600 }]));
    expect(line?.unitNetPrice).toBe(72);
    expect(line?.quantity).toBe(2);
  });

  it("uses prices as they are when the order's prices exclude tax", () => {
    const [line] = draftInvoiceLines(order([{ unitPrice: 15920, tax: 3980 }], { pricesIncludeTax: false }));
    expect(line?.unitNetPrice).toBe(159.2);
  });

  it("rounds a unit price that does not divide and leaves the cents to the rounding line", () => {
    const lines = draftInvoiceLines(
      order([{ quantity: 3, unitPrice: 4167, tax: 2500 }], { totals: { total: 12501, tax: 2500, discounts: 0, shipping: 0 } }),
    );
    expect(lines.map((l) => [l.product.productNumber, l.quantity, l.unitNetPrice])).toEqual([
      ["1", 3, 33.34],
      ["rounding", 1, -0.02],
    ]);
  });

  it("skips zero-quantity lines and free shipping, and numbers the rest from 1", () => {
    const lines = draftInvoiceLines(
      order(
        [
          { quantity: 0, unitPrice: 500 },
          { unitPrice: 12500, tax: 2500 },
        ],
        {
          shipping: [
            { title: "Free pickup", price: 0, discount: 0, tax: 0 },
            { title: "Express", price: 6250, discount: 0, tax: 1250 },
          ],
          totals: { total: 18750, tax: 3750, discounts: 0, shipping: 6250 },
        },
      ),
    );
    expect(lines.map((l) => [l.lineNumber, l.product.productNumber, l.description, l.unitNetPrice])).toEqual([
      [1, "1", "Line 1", 100],
      [2, "shipping", "Express", 50],
    ]);
  });

  it("plans the SKU as product number only when allowed and at most 25 characters", () => {
    const o = order([
      { sku: "SKU-OK", unitPrice: 125, tax: 25 },
      { sku: "X".repeat(26), unitPrice: 125, tax: 25 },
      { sku: "  ", unitPrice: 125, tax: 25 },
    ]);
    expect(draftInvoiceLines(o).map((l) => l.product.productNumber)).toEqual(["SKU-OK", "1", "1"]);
    const off = createInvoiceSettings.parse({ useSkuAsProductNumber: false, productNumber: "WEB" });
    expect(draftInvoiceLines(o, off).map((l) => l.product.productNumber)).toEqual(["WEB", "WEB", "WEB"]);
  });

  it("gives gift cards, fees and refund adjustments their own products", () => {
    const o = order([{ unitPrice: 50000, giftCard: true }], {
      fees: [{ title: "Invoice fee", amount: 2500, tax: 500, taxRateBp: 2500 }],
      totals: { total: 52500, tax: 500, discounts: 0, shipping: 0 },
    });
    expect(draftInvoiceLines(o).map((l) => [l.product.productNumber, l.unitNetPrice])).toEqual([
      ["giftcard", 500],
      ["fee", 20],
    ]);
  });

  it("turns every quantity negative for a credit note and notes restocked lines", () => {
    const o = order([{ sku: "TS-1", unitPrice: 19900, tax: 3980, taxRateBp: 2500 }], {
      totals: { total: 19900, tax: 3980, discounts: 0, shipping: 0 },
    });
    const document = buildCreditNoteDocument(
      o,
      refundOf({ lines: [{ lineId: "l0", quantity: 1, subtotal: 19900, tax: 3980, restock: true }] }),
      settings,
    );
    expect(economicLines(document, ["TS-1"], -1)).toEqual([
      { lineNumber: 1, product: { productNumber: "TS-1" }, description: "Line 0", quantity: -1, unitNetPrice: 159.2 },
    ]);
    expect(
      restockNotes(document, refundOf({ lines: [{ lineId: "l0", quantity: 1, subtotal: 19900, tax: 3980, restock: true }] })),
    ).toEqual(["Returned to stock: Line 0 × 1"]);
  });

  it("refuses an order with nothing to invoice and currencies with three decimals", () => {
    expect(() => draftInvoiceLines(order([{ quantity: 0 }]))).toThrow(OrderlyError);
    expect(() =>
      draftInvoiceLines(
        order([{ unitPrice: 1250, tax: 250 }], { currency: "KWD", totals: { total: 1000, tax: 0, discounts: 0, shipping: 0 } }),
      ),
    ).toThrow(/two decimals/);
  });
});

describe("e-conomic products for VAT", () => {
  it("maps an OSS line at a reduced rate by country and rate, and names the missing key", () => {
    const de = { name: "Kim", country: "DE" };
    const o = order(
      [
        { unitPrice: 11900, tax: 1900, taxRateBp: 1900 },
        { unitPrice: 10700, tax: 700, taxRateBp: 700 },
      ],
      { billingAddress: de, shippingAddress: de, totals: { total: 22600, tax: 2600, discounts: 0, shipping: 0 } },
    );
    const oss = createInvoiceSettings.parse({ ossRegistered: true, ossProducts: { DE: "oss-de", "DE:700": "oss-de-7" } });
    const document = buildInvoiceDocument(o, oss);
    expect(document.lines.map((l) => planProduct(l, document, oss))).toEqual([
      { productNumber: "oss-de" },
      { productNumber: "oss-de-7" },
    ]);
    const partial = createInvoiceSettings.parse({ ossRegistered: true, ossProducts: { DE: "oss-de" } });
    expect(() => planProduct(document.lines[1]!, document, partial)).toThrow(/ossProducts\.DE:700/);
  });
});

describe("e-conomic exchange rates", () => {
  it("keeps rates per 100 units of the foreign currency, exactly", () => {
    expect(per100("7.4561")).toBe(745.61);
    expect(per100("7")).toBe(700);
    expect(per100("0.05")).toBe(5);
    expect(per100("10.5")).toBe(1050);
  });

  it("writes the webshop's rate into a foreign-currency invoice, and only a note into a converted one", () => {
    const eur = order([{ unitPrice: 10000, tax: 2000, taxRateBp: 2500 }], {
      currency: "EUR",
      exchange: { shopCurrency: "DKK", rate: "7.4561" },
      totals: { total: 10000, tax: 2000, discounts: 0, shipping: 0 },
    });
    const inEur = buildInvoiceDocument(eur, settings);
    expect(exchangeFields(eur, inEur, settings)).toEqual({
      exchangeRate: 745.61,
      note: "Exchange rate 7.4561 DKK per EUR as the webshop reported it.",
    });
    expect(exchangeFields(eur, inEur, { exchangeRateFromShop: false })).toEqual({});
    const shop = createInvoiceSettings.parse({ invoiceCurrency: "shop" });
    const inDkk = buildInvoiceDocument(eur, shop);
    expect(inDkk.currency).toBe("DKK");
    expect(exchangeFields(eur, inDkk, shop)).toEqual({
      note: "Amounts converted from EUR at 7.4561 DKK per EUR, the rate the webshop reported.",
    });
  });
});

describe("e-conomic printed notes", () => {
  it("keeps notes.textLine1 within e-conomic's 1,000 characters, says how many lines were left out, and keeps the rate note", () => {
    const eur = order([{ unitPrice: 10000, tax: 2000, taxRateBp: 2500 }], {
      currency: "EUR",
      exchange: { shopCurrency: "DKK", rate: "7.4561" },
      totals: { total: 10000, tax: 2000, discounts: 0, shipping: 0 },
    });
    const document = buildInvoiceDocument(eur, settings);
    const notes = Array.from(
      { length: 30 },
      (_, i) => `Returned to stock: Organic cotton T-shirt, relaxed fit, no. ${i + 1} × 1`,
    );
    const body = (lines: string[]) =>
      documentBody(eur, document, settings, { reference: "r", productNumbers: ["1"], b2b: false, notes: lines });

    const text = body(notes).notes?.textLine1 ?? "";
    const printed = text.split("\n");

    expect(text.length).toBeLessThanOrEqual(1000);
    expect(printed.at(-1)).toBe("Exchange rate 7.4561 DKK per EUR as the webshop reported it.");
    const listed = printed.filter((l) => l.startsWith("Returned to stock"));
    expect(listed).toEqual(notes.slice(0, listed.length));
    expect(listed.length).toBeGreaterThan(5);
    expect(printed.at(-2)).toBe(
      `… ${notes.length - listed.length} more lines not shown: e-conomic prints at most 1,000 characters here.`,
    );
    expect(body(notes).notes).not.toHaveProperty("textLine2");
    // A list that fits is printed whole, without the marker.
    expect(body(notes.slice(0, 3)).notes?.textLine1).toBe(
      [...notes.slice(0, 3), "Exchange rate 7.4561 DKK per EUR as the webshop reported it."].join("\n"),
    );
    // A line longer than the whole field is left out and counted, not cut off unseen.
    expect(body([`Returned to stock: ${"x".repeat(1200)} × 1`]).notes?.textLine1).toBe(
      "… 1 more line not shown: e-conomic prints at most 1,000 characters here.\nExchange rate 7.4561 DKK per EUR as the webshop reported it.",
    );
  });
});

describe("e-conomic filters, references and errors", () => {
  it("escapes $ ( ) * , [ ] with a leading $ and URL-encodes the whole filter", () => {
    expect(escapeFilterValue("a$b(c)*,[d]")).toBe("a$$b$(c$)$*$,$[d$]");
    expect(eqFilter("email", "a+b@example.dk")).toBe("filter=email%24eq%3Aa%2Bb%40example.dk");
    expect(eqFilter("customerNumber", 42)).toBe("filter=customerNumber%24eq%3A42");
  });

  it("writes a product number into a URL with e-conomic's own _n_ codes, URL-encoding only the rest", () => {
    // The REST introduction's example ("Custom resource self-link encoding").
    expect(resourceId("My Awesome Product_Discount5%")).toBe("My_9_Awesome_9_Product_8_Discount5_3_");
    expect(resourceId("<>*%:&/\\_ ?.#+")).toBe("_0__1__2__3__4__5__6__7__8__9__10__11__12__13_");
    expect(resourceId("Æble-1")).toBe("%C3%86ble-1");
  });

  it("looks customers up by the configured property and falls back to the name", () => {
    const o = order([], {
      customer: { sourceId: "123", email: "a@b.dk", phone: "+45 1234", vatNumber: "DK12345678", company: "Firma ApS" },
    });
    const by = (customerMatch: string, homeCountry = "DK") =>
      customerLookup(o, createInvoiceSettings.parse({ customerMatch, homeCountry }));
    expect(by("email")).toEqual({ property: "email", value: "a@b.dk" });
    expect(by("phone")).toEqual({ property: "telephoneAndFaxNumber", value: "+45 1234" });
    expect(by("vatNumber")).toEqual({ property: "corporateIdentificationNumber", value: "DK12345678" });
    expect(by("vatNumber", "SE")).toEqual({ property: "vatNumber", value: "DK12345678" });
    expect(by("customerNumber")).toEqual({ property: "customerNumber", value: 123 });
    expect(by("name")).toEqual({ property: "name", value: "Firma ApS" });
    expect(by("ean")).toEqual({ property: "name", value: "Firma ApS" });
    const withEan = order([], { customer: { ean: "5798000123456", company: "Kommune" }, billingAddress: { postcode: "8000" } });
    expect(customerLookup(withEan, createInvoiceSettings.parse({ customerMatch: "ean" }))).toEqual({
      property: "ean",
      value: "5798000123456",
    });
    expect(customerLookup(withEan, createInvoiceSettings.parse({ customerMatch: "namePostcode" }))).toEqual({
      property: "name",
      value: "Kommune",
      and: { property: "zip", value: "8000" },
    });
    const noEmail = order([], { customer: { firstName: "Ane", lastName: "Lund" } });
    expect(customerLookup(noEmail, settings)).toEqual({ property: "name", value: "Ane Lund" });
  });

  it("prefixes the reference and refuses one longer than e-conomic keeps", () => {
    expect(economicReference({ referencePrefix: "Orderly " }, "orderly-abc-0")).toBe("Orderly orderly-abc-0");
    expect(() => economicReference({}, "r".repeat(251))).toThrow(/at most 250/);
  });

  it("turns e-conomic's annotated 400 body into a sentence naming each field", () => {
    const body = {
      message: "Validation error.",
      httpStatusCode: 400,
      errors: {
        currency: { errors: [{ errorCode: "E06000", message: "currency does not exist." }] },
        lines: [
          {
            arrayIndex: 1,
            unitNetPrice: {
              errors: [{ errorCode: "E04740", message: "unitNetPrice scale cannot be greater then two decimal places." }],
            },
          },
        ],
        recipient: { vatZone: { errors: [{ errorCode: "E04200", message: "vatZone is required." }] } },
      },
    };
    expect(describeEconomicError(body)).toBe(
      "Validation error. currency: currency does not exist; lines[1].unitNetPrice: unitNetPrice scale cannot be greater then two decimal places; recipient.vatZone: vatZone is required.",
    );
    expect(describeEconomicError({ message: "Bad filter." })).toBe("Bad filter.");
  });
});

describe("e-conomic differences, payments and booking inputs", () => {
  it("compares a booked invoice with the document it would now be", () => {
    const document = buildInvoiceDocument(
      order([{ unitPrice: 29900, tax: 5980, taxRateBp: 2500 }], {
        totals: { total: 29900, tax: 5980, discounts: 0, shipping: 0 },
      }),
      settings,
    );
    expect(
      bookedDifferences(
        { bookedInvoiceNumber: 1, currency: "DKK", grossAmount: 249, vatAmount: 49.8, lines: [{}, {}] },
        document,
        "#1001",
      ),
    ).toEqual(["total: 249.00 → 299.00", "VAT: 49.80 → 59.80", "lines: 2 → 1"]);
    expect(
      bookedDifferences(
        { bookedInvoiceNumber: 1, currency: "DKK", grossAmount: 299, vatAmount: 59.8, lines: [{}] },
        document,
        "#1001",
      ),
    ).toEqual([]);
  });

  it("sums what was paid per gateway, or the whole invoice when the order is paid without amounts", () => {
    const paid = (payments: CanonicalOrder["payments"], financialStatus?: string) => [
      ...paidByGateway(order([], { payments, ...(financialStatus ? { financialStatus } : {}) })),
    ];
    expect(
      paid([
        { gateway: "gift_card", amount: 5000, status: "paid" },
        { gateway: "quickpay", amount: 10000, status: "paid" },
        { gateway: "quickpay", amount: 2000, status: "partially_paid" },
        { gateway: "quickpay", amount: 9999, status: "authorized" },
      ]),
    ).toEqual([
      ["gift_card", 5000],
      ["quickpay", 12000],
    ]);
    expect(paid([{ gateway: "manual" }], "paid")).toEqual([["manual", undefined]]);
    expect(paid([{ gateway: "manual" }], "pending")).toEqual([]);
    // Refunded after it was paid: the payment still came in (the refund is the credit note's).
    expect(paid([{ gateway: "quickpay", amount: 10000, status: "refunded" }])).toEqual([["quickpay", 10000]]);
    expect(paid([{ gateway: "manual" }], "partially_refunded")).toEqual([["manual", undefined]]);
    expect(paid([{ gateway: "manual" }], "partially_paid")).toEqual([]);
  });

  it("finds the latest draft among earlier steps' outputs", () => {
    const draft = (n: number) => ({
      externalId: String(n),
      created: true,
      outputs: { draftInvoiceNumber: n, reference: `r${n}` },
    });
    expect(draftFromPrevious([draft(1), undefined, { externalId: "x", created: true, outputs: {} }, draft(2)])).toEqual({
      draftInvoiceNumber: 2,
      reference: "r2",
    });
    expect(draftFromPrevious([{ externalId: "x", created: true, outputs: {} }])).toBeUndefined();
  });

  it("books with the digits of the order number", () => {
    expect(invoiceNumberFromOrderNumber("#1001")).toBe(1001);
    expect(() => invoiceNumberFromOrderNumber("ABC")).toThrow(/no digits/);
  });
});

describe("e-conomic connector manifest", () => {
  it("describes every setting and credential for the form", () => {
    const undescribed: string[] = [];
    const walk = (schema: z.ZodType, path: string) => {
      const inner = schema instanceof z.ZodDefault || schema instanceof z.ZodOptional ? schema.unwrap() : schema;
      if (inner instanceof z.ZodObject)
        for (const [key, field] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
          if (!field.description) undescribed.push(`${path}${key}`);
          walk(field, `${path}${key}.`);
        }
    };
    walk(economicConnector.settings, "settings.");
    walk(economicCredentials, "credentials.");
    walk(createInvoiceSettings, "createInvoice.");
    walk(bookInvoiceSettings, "bookInvoice.");
    walk(registerPaymentSettings, "registerPayment.");
    walk(sendInvoiceEmailSettings, "sendInvoiceEmail.");
    expect(undescribed).toEqual([]);
  });

  it("is an accounting connector with the whole order's actions and non-empty tokens", () => {
    expect(economicConnector).toMatchObject({ id: "economic", name: "Visma e-conomic", category: "accounting" });
    expect(Object.keys(economicConnector.actions ?? {})).toEqual([
      "createInvoice",
      "bookInvoice",
      "registerPayment",
      "sendInvoiceEmail",
      "createOrder",
      "cancelOrder",
      "createCreditNote",
      "registerRefund",
    ]);
    for (const action of Object.values(economicConnector.actions ?? {}))
      expect(() => z.toJSONSchema(action.settings, { io: "input" })).not.toThrow();
    expect(economicCredentials.safeParse({ appSecretToken: "", agreementGrantToken: "x" }).success).toBe(false);
    expect(createInvoiceSettings.parse({})).toMatchObject({
      customerMatch: "email",
      customerGroupNumber: 1,
      paymentTermsNumber: 1,
      layoutNumber: 19,
      vatZones: { domestic: 1, eu: 2, abroad: 3 },
      homeCountry: "DK",
      productNumber: "1",
      useSkuAsProductNumber: true,
      shippingProductNumber: "shipping",
      invoiceState: "draft",
      ossProducts: {},
      reducedRateProducts: {},
    });
  });
});
