/** The lines a case expects e-conomic and Billy to receive, built from its expected document. */
import { major } from "./amounts";
import type { AccountingCase, ExpectedDocument } from "./case-types";

/** The order number the case's webshop gives the order: #1001.. for Shopify, #2001.. for WooCommerce. */
export function orderNumberOf(c: AccountingCase): number {
  return (c.source.shop === "shopify" ? 1000 : 2000) + Number(c.id.replace(/\D/g, ""));
}

/** e-conomic draft lines: net unit prices; a credit note is an invoice with negative quantities. */
export function economicDraftLines(doc: ExpectedDocument, sign: 1 | -1) {
  const lines = doc.lines.flatMap((l) =>
    l.economic === null ? [] : [{ productNumber: l.economic, description: l.text, quantity: l.quantity, unitNet: l.unitNet }],
  );
  if (doc.economic.rounding)
    lines.push({ productNumber: "rounding", description: "Rounding difference", quantity: 1, unitNet: doc.economic.rounding });
  return lines.map((l, i) => ({
    lineNumber: i + 1,
    product: { productNumber: l.productNumber },
    description: l.description,
    quantity: sign * l.quantity,
    unitNetPrice: major(l.unitNet),
  }));
}

/** Billy lines: net unit prices (taxMode excl) with a product and a tax rate each; credit notes are positive. */
export function billyInvoiceLines(doc: ExpectedDocument) {
  const lines = doc.lines.map((l) => ({
    productId: l.billy[0],
    description: l.text,
    quantity: l.quantity,
    unitPrice: major(l.unitNet),
    taxRateId: l.billy[1],
  }));
  if (doc.billy.rounding)
    lines.push({
      productId: "prod-rounding",
      description: "Rounding difference",
      quantity: 1,
      unitPrice: major(doc.billy.rounding),
      taxRateId: "tr-none",
    });
  return lines;
}
