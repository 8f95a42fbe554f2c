import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  bookInvoiceSettings,
  createInvoiceSettings,
  customerLookup,
  describeEconomicError,
  draftFromPrevious,
  draftInvoiceLines,
  economicConnector,
  economicCredentials,
  economicReference,
  eqFilter,
  escapeFilterValue,
  invoiceNumberFromOrderNumber,
  unitNet,
  vatZoneKind,
} from "../../src/connectors/economic";
import { OrderlyError } from "../../src/domain/errors";
import { type CanonicalOrder, type Line, orderSchema } from "../../src/domain/order";

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

describe("e-conomic line mapping", () => {
  it("turns a VAT-inclusive 199.00 at 25% into a net unit price of 159.20", () => {
    const [line] = draftInvoiceLines(order([{ sku: "TS-1", unitPrice: 19900, tax: 3980 }]), settings);
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
    const [line] = draftInvoiceLines(order([{ quantity: 2, unitPrice: 10000, discount: 2000, tax: 3600 }]), settings);
    expect(line?.unitNetPrice).toBe(72);
    expect(line?.quantity).toBe(2);
  });

  it("uses prices as they are when the order's prices exclude tax", () => {
    const [line] = draftInvoiceLines(order([{ unitPrice: 15920, tax: 3980 }], { pricesIncludeTax: false }), settings);
    expect(line?.unitNetPrice).toBe(159.2);
  });

  it("keeps the quantity and rounds half-up when the net total does not divide evenly", () => {
    expect(unitNet(10000, 3)).toBe(3333);
    expect(unitNet(1001, 2)).toBe(501);
    expect(unitNet(-1001, 2)).toBe(-501);
    expect(unitNet(1000, -2)).toBe(-500);
    const [line] = draftInvoiceLines(order([{ quantity: 3, unitPrice: 4167, tax: 2500 }]), settings);
    expect(line).toMatchObject({ quantity: 3, unitNetPrice: 33.34 });
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
        },
      ),
      settings,
    );
    expect(lines.map((l) => [l.lineNumber, l.product.productNumber, l.description, l.unitNetPrice])).toEqual([
      [1, "1", "Line 1", 100],
      [2, "shipping", "Express", 50],
    ]);
  });

  it("uses the SKU as product number only when allowed and at most 25 characters", () => {
    const o = order([
      { sku: "SKU-OK", unitPrice: 100 },
      { sku: "X".repeat(26), unitPrice: 100 },
      { sku: "  ", unitPrice: 100 },
    ]);
    expect(draftInvoiceLines(o, settings).map((l) => l.product.productNumber)).toEqual(["SKU-OK", "1", "1"]);
    const off = createInvoiceSettings.parse({ useSkuAsProductNumber: false, productNumber: "WEB" });
    expect(draftInvoiceLines(o, off).map((l) => l.product.productNumber)).toEqual(["WEB", "WEB", "WEB"]);
  });

  it("refuses an order with nothing to invoice and currencies with three decimals", () => {
    expect(() => draftInvoiceLines(order([{ quantity: 0 }]), settings)).toThrow(OrderlyError);
    expect(() => draftInvoiceLines(order([{ unitPrice: 1000 }], { currency: "KWD" }), settings)).toThrow(/two decimals/);
  });
});

describe("e-conomic filters, references and errors", () => {
  it("escapes $ ( ) * , [ ] with a leading $ and URL-encodes the whole filter", () => {
    expect(escapeFilterValue("a$b(c)*,[d]")).toBe("a$$b$(c$)$*$,$[d$]");
    expect(eqFilter("email", "a+b@example.dk")).toBe("filter=email%24eq%3Aa%2Bb%40example.dk");
    expect(eqFilter("customerNumber", 42)).toBe("filter=customerNumber%24eq%3A42");
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

describe("e-conomic VAT zones and booking inputs", () => {
  it("puts the home country in the domestic zone, EU members in the EU zone and the rest abroad", () => {
    expect(vatZoneKind("DK", "DK")).toBe("domestic");
    expect(vatZoneKind("de", "DK")).toBe("eu");
    expect(vatZoneKind("GB", "DK")).toBe("abroad");
    expect(vatZoneKind("US", "DK")).toBe("abroad");
    expect(vatZoneKind("DK", "SE")).toBe("eu");
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
    expect(undescribed).toEqual([]);
  });

  it("is an accounting connector with createInvoice and bookInvoice and non-empty tokens", () => {
    expect(economicConnector).toMatchObject({ id: "economic", name: "Visma e-conomic", category: "accounting" });
    expect(Object.keys(economicConnector.actions ?? {})).toEqual(["createInvoice", "bookInvoice"]);
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
    });
  });
});
