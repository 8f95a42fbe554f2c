import { describe, expect, it } from "vitest";
import {
  billyConnectionSettings,
  billyConnector,
  checkProductSettings,
  contactBody,
  contactPlan,
  createInvoiceSettings,
  describeBillyError,
  earlierCreditNote,
  invoiceDifferences,
  invoiceFromHistory,
  invoiceFromPrevious,
  paymentPlan,
  paymentsToMake,
  productSourceFor,
  referencesOf,
  registerPaymentSettings,
  renderInvoiceEmail,
  sameLines,
  taxRateIdFor,
} from "../../src/connectors/billy";
import { buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import type { DocumentLine } from "../../src/domain/accounting/document";
import { OrderlyError } from "../../src/domain/errors";
import type { VatDecision } from "../../src/domain/vat/vat-decision";
import { danishOrder, germanBusinessOrder, historyEntry, SETTINGS } from "../mocks/billy.mock.fixtures";

const settings = createInvoiceSettings.parse(SETTINGS);
const line = (over: Partial<DocumentLine> = {}): DocumentLine => ({
  kind: "product",
  description: "T-shirt",
  quantity: 1,
  unitNet: 10000,
  net: 10000,
  vatRateBp: 2500,
  vat: 2500,
  ...over,
});
const vat = (over: Partial<VatDecision> = {}): VatDecision => ({
  case: "domestic",
  zone: "domestic",
  destination: "DK",
  vatCountry: "DK",
  standardRateBp: 2500,
  b2b: false,
  ...over,
});
const OSS_DE = vat({ case: "oss", zone: "eu", destination: "DE", vatCountry: "DE", standardRateBp: 1900 });
const EXPORT = vat({ case: "export", zone: "abroad", destination: "US", vatCountry: null, standardRateBp: 0 });

function thrown(fn: () => unknown): OrderlyError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OrderlyError);
    return error as OrderlyError;
  }
  throw new Error("expected an error");
}

describe("Billy tax rate per line", () => {
  it("maps each VAT case at its standard rate to the configured tax rate", () => {
    expect(taxRateIdFor(line(), vat(), settings)).toBe("tr-dk-25");
    expect(taxRateIdFor(line({ vatRateBp: 1900 }), OSS_DE, settings)).toBe("tr-de-19");
    expect(taxRateIdFor(line({ vatRateBp: 0 }), EXPORT, settings)).toBe("tr-export");
    const rc = vat({ case: "reverse-charge", zone: "eu", destination: "SE", vatCountry: null, standardRateBp: 0 });
    expect(taxRateIdFor(line({ vatRateBp: 0 }), rc, settings)).toBe("tr-eu-rc");
    const home = vat({ case: "eu-home-vat", zone: "eu", destination: "SE" });
    expect(taxRateIdFor(line(), home, settings)).toBe("tr-dk-25");
  });

  it("names the setting to add when a case or OSS country has no tax rate", () => {
    const france = vat({ case: "oss", zone: "eu", destination: "FR", vatCountry: "FR", standardRateBp: 2000 });
    const error = thrown(() => taxRateIdFor(line({ vatRateBp: 2000 }), france, settings));
    expect(error.message).toBe(
      "The order is a One Stop Shop (FR) sale, and the step has no Billy tax rate for it: set taxRates.oss.FR to the id of the Billy tax rate to use.",
    );
    expect(error.details).toEqual({ setting: "taxRates.oss.FR", vatCase: "oss" });
  });

  it("maps reduced rates by country and rate first, then by rate", () => {
    const byRate = { ...settings, taxRatesByRate: { "700": "tr-7", "DE:700": "tr-de-7" } };
    expect(taxRateIdFor(line({ vatRateBp: 700 }), OSS_DE, byRate)).toBe("tr-de-7");
    expect(taxRateIdFor(line({ vatRateBp: 700 }), vat(), byRate)).toBe("tr-7");
  });

  it("puts rounding and gift card lines on the no-VAT rate, or the zero rate of a zero-VAT case", () => {
    expect(taxRateIdFor(line({ kind: "rounding", vatRateBp: 0 }), vat(), settings)).toBe("tr-none");
    const noNoVat = { ...settings, taxRates: { ...settings.taxRates, noVat: undefined } };
    expect(taxRateIdFor(line({ kind: "giftcard", vatRateBp: 0 }), EXPORT, noNoVat)).toBe("tr-export");
    expect(thrown(() => taxRateIdFor(line({ kind: "rounding", vatRateBp: 0 }), vat(), noNoVat)).message).toMatch(
      /set taxRates\.noVat/,
    );
  });
});

describe("Billy products per line", () => {
  it("looks product lines up by SKU and takes the others from the settings", () => {
    expect(productSourceFor(line({ sku: "TS-1" }), settings)).toEqual({ kind: "sku", sku: "TS-1" });
    expect(productSourceFor(line({ sku: "TS-1" }), { ...settings, useSkuAsProduct: false })).toEqual({
      kind: "setting",
      key: "default",
      productId: "prod-default",
    });
    expect(productSourceFor(line({ kind: "shipping" }), { ...settings, products: { default: "d" } })).toEqual({
      kind: "setting",
      key: "default",
      productId: "d",
    });
    expect(productSourceFor(line({ kind: "giftcard" }), settings)).toMatchObject({ key: "giftCard", productId: "prod-giftcard" });
  });

  it("refuses a gift card line when no gift card product is set", () => {
    const error = thrown(() =>
      checkProductSettings([line({ kind: "giftcard", description: "Gift card" })], { ...settings, products: {} }),
    );
    expect(error.message).toBe(
      '"Gift card" (a giftcard line) needs a Billy product: set products.giftCard in the step\'s settings.',
    );
  });
});

describe("Billy contact matching", () => {
  it("looks up by the configured property, and by name and postcode only when the order lacks it", () => {
    expect(contactPlan(danishOrder(), settings)).toEqual({
      kind: "match",
      lookups: [{ resource: "contactPersons", filter: { email: "ane@example.dk" } }],
    });
    expect(contactPlan(danishOrder(), { ...settings, customerMatch: "customerNumber" })).toEqual({
      kind: "match",
      lookups: [{ resource: "contacts", filter: { contactNo: "777" } }],
    });
    expect(contactPlan(danishOrder({ customer: { firstName: "Ane", lastName: "Lund" } }), settings)).toEqual({
      kind: "match",
      lookups: [{ resource: "contacts", filter: { name: "Ane Lund", zipcodeText: "8000" } }],
    });
  });

  it("puts consumers on the shared contact but looks businesses up by VAT number and e-mail", () => {
    const shared = { customerMatch: "shared" as const, sharedContactId: "con-shop" };
    expect(contactPlan(danishOrder(), shared)).toEqual({ kind: "shared", contactId: "con-shop" });
    expect(contactPlan(germanBusinessOrder(), shared)).toMatchObject({
      lookups: [
        { resource: "contacts", filter: { registrationNo: "DE123456789" } },
        { resource: "contactPersons", filter: { email: "einkauf@meyer.de" } },
      ],
    });
    expect(thrown(() => contactPlan(danishOrder(), { customerMatch: "shared" })).code).toBe("billy_shared_contact_missing");
  });

  it("creates a company with its EAN and the shop's customer number when matching by it", () => {
    const order = danishOrder({
      customer: { sourceId: "42", company: "Kommune", ean: "5790000000000", email: "bogholderi@kommune.dk" },
    });
    expect(contactBody(order, { ...settings, customerMatch: "customerNumber" })).toMatchObject({
      type: "company",
      name: "Kommune",
      ean: "5790000000000",
      contactNo: "42",
      paymentTermsDays: 8,
      contactPersons: [{ name: "Ane Lund", email: "bogholderi@kommune.dk", isPrimary: true }],
    });
  });
});

describe("Billy invoice comparison", () => {
  const document = buildInvoiceDocument(danishOrder(), settings);

  it("reports no differences for the same invoice and each changed field otherwise", () => {
    const same = { id: "i", grossAmount: 248, tax: 49.6, lines: [{}, {}], currencyId: "DKK" };
    expect(invoiceDifferences(same, document, "#1001")).toEqual([]);
    expect(invoiceDifferences({ ...same, grossAmount: 200, tax: 40, lines: [{}] }, document, "#1001")).toEqual([
      "total: 200.00 DKK → 248.00 DKK",
      "VAT: 40.00 DKK → 49.60 DKK",
      "lines: 1 → 2",
    ]);
  });

  it("compares lines as Billy stores them", () => {
    const wanted = [{ productId: "p", description: "T", quantity: 1, unitPrice: 159.2, taxRateId: "t" }];
    expect(sameLines([{ ...wanted[0], id: "line-1" }], wanted)).toBe(true);
    expect(sameLines([{ ...wanted[0], unitPrice: 159.21 }], wanted)).toBe(false);
    expect(sameLines(undefined, wanted)).toBe(false);
    expect(referencesOf({ externalId: "a, b" })).toEqual(["a", "b"]);
  });
});

describe("Billy payments", () => {
  const pay = registerPaymentSettings.parse({
    byGateway: { stripe: { cashAccountId: "acc-stripe" } },
    defaultCashAccountId: "acc-bank",
  });

  it("takes paid payments per gateway, or the order total when only the status says paid", () => {
    expect(paymentPlan(danishOrder(), pay, "DKK")).toEqual({
      kind: "pay",
      parts: [{ gateway: "shopify_payments", cashAccountId: "acc-bank", amount: 24800 }],
      total: 24800,
    });
    const statusOnly = danishOrder({ payments: [{ gateway: "stripe" }], financialStatus: "paid" });
    expect(paymentPlan(statusOnly, pay, "DKK")).toMatchObject({
      parts: [{ gateway: "stripe", cashAccountId: "acc-stripe", amount: 24800 }],
    });
    const authorized = danishOrder({
      payments: [{ gateway: "stripe", amount: 24800, status: "authorized" }],
      financialStatus: "authorized",
    });
    expect(paymentPlan(authorized, pay, "DKK").kind).toBe("skip");
    expect(paymentPlan(authorized, { ...pay, onlyWhenPaid: false }, "DKK").kind).toBe("pay");
  });

  it("converts to the invoice's currency at the order's rate", () => {
    const eur = danishOrder({ currency: "EUR", exchange: { shopCurrency: "DKK", rate: "7.46" } });
    expect(paymentPlan(eur, pay, "DKK")).toMatchObject({ total: 185008 });
  });

  it("registers per cash account only what is missing, and never more than the open balance", () => {
    const parts = [
      { gateway: "stripe", cashAccountId: "acc-stripe", amount: 20000 },
      { gateway: "gift_card", cashAccountId: "acc-gift", amount: 4800 },
    ];
    expect(paymentsToMake(parts, [{ id: "bp-1", cashAccountId: "acc-stripe", amount: 20000 }], 4800)).toEqual([
      { cashAccountId: "acc-gift", gateways: ["gift_card"], amount: 4800 },
    ]);
    expect(paymentsToMake(parts, [], 10000)).toEqual([{ cashAccountId: "acc-stripe", gateways: ["stripe"], amount: 10000 }]);
  });
});

describe("Billy e-mail, errors and history", () => {
  it("fills the e-mail placeholders", () => {
    expect(
      renderInvoiceEmail(
        { subject: "Invoice {{invoice.number}} / {{order.number}}", body: "{{customer.name}}: {{order.total}} ({{invoice.id}})" },
        danishOrder(),
        {
          id: "inv-9",
          invoiceNo: 1042,
        },
      ),
    ).toEqual({ emailSubject: "Invoice 1042 / #1001", emailBody: "Ane Lund: 248.00 DKK (inv-9)" });
  });

  it("turns Billy's error bodies into a sentence", () => {
    expect(describeBillyError({ errorCode: "X", errorMessage: "Contact not found." })).toBe("Contact not found");
    expect(
      describeBillyError({ errorMessage: "Validation failed.", validationErrors: { invoice: { entryDate: "must be a date" } } }),
    ).toBe("Validation failed; invoice.entryDate: must be a date");
    expect(describeBillyError({ errorCode: "RATE_LIMITED" })).toBe("RATE_LIMITED");
    expect(describeBillyError(null)).toBeUndefined();
  });

  it("finds the invoice from an earlier step or from this connection's history", () => {
    const invoice = { externalId: "inv-1", created: true, outputs: { documentType: "invoice", invoiceId: "inv-1" } };
    const economic = { externalId: "7", created: true, outputs: { draftInvoiceNumber: 7 } };
    expect(invoiceFromPrevious([invoice, economic, undefined])).toBe("inv-1");
    expect(invoiceFromPrevious([economic])).toBeUndefined();
    const newer = { ...invoice, outputs: { ...invoice.outputs, invoiceId: "inv-2" } };
    expect(invoiceFromHistory([historyEntry("createInvoice", invoice), historyEntry("createInvoice", newer)], "con_billy")).toBe(
      "inv-2",
    );
    expect(invoiceFromHistory([historyEntry("createInvoice", invoice, { target: "other" })], "con_billy")).toBeUndefined();
    const note = {
      externalId: "cn-1",
      created: true,
      outputs: { creditNoteId: "cn-1", creditedInvoiceId: "inv-1", refundId: "r1" },
    };
    expect(earlierCreditNote([historyEntry("createCreditNote", note, { occurrence: "r1" })], "con_billy", "inv-1")).toEqual({
      creditNoteId: "cn-1",
      refunds: ["r1"],
    });
  });

  it("has a manifest with described settings and Billy's address by default", () => {
    expect(billyConnector).toMatchObject({ id: "billy", name: "Billy", category: "accounting" });
    expect(Object.keys(billyConnector.actions ?? {})).toEqual([
      "createInvoice",
      "registerPayment",
      "sendInvoiceEmail",
      "createCreditNote",
      "registerRefund",
      "cancelOrder",
    ]);
    expect(billyConnectionSettings.parse({})).toEqual({ baseUrl: "https://api.billysbilling.com/v2" });
    for (const field of Object.values(billyConnectionSettings.shape)) expect(field.description).toBeTruthy();
    for (const field of Object.values(createInvoiceSettings.shape)) expect(field.description).toBeTruthy();
  });
});
