/**
 * Billy documents an invoice line's `taxRate` as readonly: it may take the rate from the product's
 * sales tax ruleset instead of the one Orderly sent. Before approving, each line Billy saved is
 * compared with the rate Orderly chose; a draft whose rates differ is kept and the step fails.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, createInvoiceSettings, taxRateProblems } from "../../src/connectors/billy";
import { buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import {
  danishOrder,
  failure,
  germanBusinessOrder,
  historyEntry,
  PRODUCTS,
  refund,
  run,
  SETTINGS,
} from "../mocks/billy.mock.fixtures";

const BOOKED = { ...SETTINGS, invoiceState: "booked" };
const REF_R1 = "orderly-11111111111111111111111111111111-0";

describe("Billy checks the tax rate of every line before approving", () => {
  it("keeps a reverse-charge invoice Billy booked on the export rate as a draft, though the totals agree", async () => {
    const mock = createBillyMock({
      products: PRODUCTS,
      taxRateFromProduct: { "prod-ts1": "tr-export", "prod-shipping": "tr-export" },
    });
    installBillyMock(mock);

    const error = await failure(run(createInvoice, germanBusinessOrder(), BOOKED));

    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("billy_tax_rate_mismatch");
    expect(error.message).toBe(
      "Billy put other tax rates on invoice inv-3 than Orderly chose for this EU business reverse-charge (DE) sale: line 1 \"T-shirt\" (product prod-ts1) has tax rate tr-export instead of tr-eu-rc. Billy takes a line's tax rate from its product's sales tax ruleset: in Billy, give these products a ruleset that gives the chosen rate for this customer (or set the step's products to ones that do), then retry; the retry saves the draft's lines again. The invoice is kept as a draft.",
    );
    expect(error.details).toEqual({
      draftId: "inv-3",
      lines: [{ line: 1, description: "T-shirt", productId: "prod-ts1", expected: "tr-eu-rc", applied: "tr-export" }],
    });
    expect(mock.invoice("inv-3")).toMatchObject({ state: "draft", tax: 0, grossAmount: 1020 });
    expect(mock.writes().some((w) => (w.body as { invoice?: { state?: string } }).invoice?.state === "approved")).toBe(false);
  });

  it("approves a reverse-charge invoice whose shipping Billy books on another 0 % rate: no VAT is charged on it either way", async () => {
    const mock = createBillyMock({ products: PRODUCTS, taxRateFromProduct: { "prod-shipping": "tr-export" } });
    installBillyMock(mock);

    const { result } = await run(createInvoice, germanBusinessOrder(), BOOKED);

    expect(result.outputs).toMatchObject({ state: "approved" });
    expect(mock.linesOf("inv-3").map((l) => l.taxRateId)).toEqual(["tr-eu-rc", "tr-export"]);
  });

  it("approves on the retry once the products give the chosen rate", async () => {
    const mock = createBillyMock({ products: PRODUCTS, taxRateFromProduct: { "prod-ts1": "tr-export" } });
    installBillyMock(mock);
    await failure(run(createInvoice, germanBusinessOrder(), BOOKED));

    mock.state.taxRateFromProduct = { "prod-ts1": "tr-eu-rc" };
    const { result } = await run(createInvoice, germanBusinessOrder(), BOOKED);

    expect(result.outputs).toMatchObject({ state: "approved", updated: true });
    expect(mock.linesOf("inv-3").map((l) => l.taxRateId)).toEqual(["tr-eu-rc", "tr-eu-rc"]);
  });

  it("keeps a credit note Billy booked on another rate than its invoice's as a draft", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const invoice = await run(createInvoice, germanBusinessOrder(), BOOKED);
    mock.state.taxRateFromProduct = { "prod-ts1": "tr-export" };
    const refundOfOne = refund({
      currency: "EUR",
      lines: [{ lineId: "l1", sku: "TS-1", quantity: 1, subtotal: 10000, tax: 0, restock: true }],
      total: 10000,
    });

    const error = await failure(
      run(createCreditNote, germanBusinessOrder(), BOOKED, {
        reference: REF_R1,
        history: [historyEntry("createInvoice", invoice.result)],
        refund: refundOfOne,
      }),
    );

    expect(error.code).toBe("billy_tax_rate_mismatch");
    expect(error.message).toMatch(
      /^Billy put other tax rates on credit note inv-\d+ than Orderly chose .* line 1 "T-shirt" \(product prod-ts1\) has tax rate tr-export instead of tr-eu-rc\. .* then delete the draft credit note in Billy and retry\./,
    );
    const note = mock.state.invoices.find((i) => i.type === "creditNote");
    expect(note).toMatchObject({ state: "draft", creditedInvoiceId: "inv-3" });
  });

  it("leaves a draft-mode invoice as a draft without reading its lines again", async () => {
    const mock = createBillyMock({ products: PRODUCTS, taxRateFromProduct: { "prod-ts1": "tr-export" } });
    installBillyMock(mock);

    const { result } = await run(createInvoice, germanBusinessOrder(), SETTINGS);

    expect(result.outputs).toMatchObject({ state: "draft" });
    expect(mock.requests.filter((r) => r.path === "/invoices/inv-3")).toEqual([]);
  });

  it("compares the rate a line's amount and tax show when Billy names no tax rate", () => {
    const document = buildInvoiceDocument(danishOrder(), createInvoiceSettings.parse(BOOKED));
    const chosen = ["tr-dk-25", "tr-dk-25"];
    const saved = (tax: number) => [
      { productId: "prod-ts1", description: "T-shirt", amount: 159.2, tax: 39.8, priority: 0 },
      { productId: "prod-shipping", description: "Standard shipping", amount: 39.2, tax, priority: 1 },
    ];

    expect(taxRateProblems(document, chosen, saved(9.8))).toEqual([]);
    expect(taxRateProblems(document, chosen, saved(0))).toEqual([
      {
        line: 2,
        description: "Standard shipping",
        productId: "prod-shipping",
        expected: "tr-dk-25",
        applied: "VAT at 0 %",
        text: 'line 2 "Standard shipping" (product prod-shipping) has VAT at 0 % instead of 25 % (tr-dk-25)',
      },
    ]);
    // Lines are compared in Billy's order (`priority`), not the order of its answer.
    expect(taxRateProblems(document, chosen, [...saved(9.8)].reverse())).toEqual([]);
    expect(taxRateProblems(document, chosen, saved(9.8).slice(0, 1))).toEqual([
      expect.objectContaining({ text: "Billy saved 1 line(s), not the 2 Orderly sent" }),
    ]);
  });
});
