/**
 * Turns a canonical order into invoice lines with net amounts and VAT, the shape every
 * accounting target starts from. Amounts are whole-line totals in minor units; the source's
 * own VAT figures are kept so the invoice adds up to what the customer paid.
 */
import type { CanonicalOrder } from "./order";

export interface InvoiceLine {
  kind: "product" | "shipping" | "fee" | "giftcard";
  description: string;
  sku?: string;
  quantity: number;
  /** Net amount of the whole line after discounts. */
  net: number;
  vat: number;
  vatRateBp?: number;
}

export function invoiceLinesFromOrder(order: CanonicalOrder): InvoiceLine[] {
  const lines: InvoiceLine[] = [];
  for (const line of order.lines) {
    if (line.quantity === 0) continue;
    const afterDiscount = line.unitPrice * line.quantity - line.discount;
    lines.push({
      kind: line.giftCard ? "giftcard" : "product",
      description: line.title,
      ...(line.sku ? { sku: line.sku } : {}),
      quantity: line.quantity,
      net: order.pricesIncludeTax ? afterDiscount - line.tax : afterDiscount,
      vat: line.tax,
      ...(line.taxRateBp === undefined ? {} : { vatRateBp: line.taxRateBp }),
    });
  }
  for (const shipping of order.shipping) {
    if (shipping.price === 0 && shipping.tax === 0) continue;
    const afterDiscount = shipping.price - shipping.discount;
    lines.push({
      kind: "shipping",
      description: shipping.title,
      quantity: 1,
      net: order.pricesIncludeTax ? afterDiscount - shipping.tax : afterDiscount,
      vat: shipping.tax,
      ...(shipping.taxRateBp === undefined ? {} : { vatRateBp: shipping.taxRateBp }),
    });
  }
  for (const fee of order.fees ?? []) {
    if (fee.amount === 0 && fee.tax === 0) continue;
    lines.push({
      kind: "fee",
      description: fee.title,
      quantity: 1,
      net: order.pricesIncludeTax ? fee.amount - fee.tax : fee.amount,
      vat: fee.tax,
      ...(fee.taxRateBp === undefined ? {} : { vatRateBp: fee.taxRateBp }),
    });
  }
  return lines;
}

export function sumLines(lines: InvoiceLine[]): { net: number; vat: number; total: number } {
  const net = lines.reduce((sum, l) => sum + l.net, 0);
  const vat = lines.reduce((sum, l) => sum + l.vat, 0);
  return { net, vat, total: net + vat };
}
