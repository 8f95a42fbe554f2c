/**
 * The two layouts a files step writes, as rows of text cells taken from the canonical order: a pick
 * list (what to pick and where it goes) and the order's lines with prices and VAT. Amounts are minor
 * units rendered as decimals of the order's currency; nothing is computed in floats.
 */
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import type { Address, CanonicalOrder } from "../../domain/order";
import { linesToPick, shipToAddress } from "../../domain/pick-list";
import type { FileLayout } from "./files.settings";

export const PICK_LIST_COLUMNS = [
  "orderNumber",
  "orderDate",
  "sku",
  "name",
  "quantity",
  "shipToName",
  "shipToCompany",
  "shipToAddress1",
  "shipToAddress2",
  "shipToPostcode",
  "shipToCity",
  "shipToRegion",
  "shipToCountry",
  "shipToPhone",
  "email",
  "shippingMethod",
  "note",
] as const;

export const ORDER_LINE_COLUMNS = [
  "orderNumber",
  "orderDate",
  "lineNumber",
  "type",
  "sku",
  "name",
  "quantity",
  "unitPrice",
  "pricesIncludeVat",
  "discount",
  "net",
  "vatRate",
  "vat",
  "total",
  "currency",
] as const;

export type Row = Record<string, string>;

export interface Table {
  layout: FileLayout;
  columns: readonly string[];
  rows: Row[];
}

// XML 1.0 cannot carry these at all; a spreadsheet shows them as garbage. Tab, LF and CR stay.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters removed.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const text = (value: string | undefined | null): string => (value ?? "").replace(CONTROL, "");

/** The order's date as yyyy-mm-dd (UTC), or its text as given when it does not parse. */
export function orderDate(order: CanonicalOrder): string {
  const ms = Date.parse(order.source.createdAt);
  return Number.isNaN(ms) ? text(order.source.createdAt).slice(0, 10) : new Date(ms).toISOString().slice(0, 10);
}

/** Basis points as a percent: 2500 → "25", 1250 → "12.5", none → "". */
export function percent(bp: number | undefined): string {
  if (bp === undefined) return "";
  const whole = Math.trunc(bp / 100);
  const rest = (bp % 100).toString().padStart(2, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : String(whole);
}

/** Where the parcel goes: the shipping address when it names a street or a person, else the billing address. */

function customerName(order: CanonicalOrder): string {
  return [order.customer?.firstName, order.customer?.lastName].filter(Boolean).join(" ");
}

/** The rows of a pick list: one per line with something to pick (a quantity above 0). */
function pickList(order: CanonicalOrder): Row[] {
  const to: Address = shipToAddress(order) ?? {};
  const head = {
    orderNumber: text(order.source.orderNumber),
    orderDate: orderDate(order),
  };
  const tail = {
    shipToName: text(to.name || customerName(order)),
    shipToCompany: text(to.company ?? order.customer?.company),
    shipToAddress1: text(to.line1),
    shipToAddress2: text(to.line2),
    shipToPostcode: text(to.postcode),
    shipToCity: text(to.city),
    shipToRegion: text(to.region),
    shipToCountry: text(to.country),
    shipToPhone: text(to.phone ?? order.customer?.phone),
    email: text(order.customer?.email),
    shippingMethod: text(order.shipping.map((s) => s.title).join(", ")),
    note: text(order.note),
  };
  return linesToPick(order).map((line) => ({
    ...head,
    sku: text(line.sku),
    name: text(line.title),
    quantity: String(line.quantity),
    ...tail,
  }));
}

/** Every product line, then shipping and fees, so the totals column adds up to what the customer paid. */
function orderLines(order: CanonicalOrder): Row[] {
  const money = (minor: number) => toDecimalString(minor, order.currency);
  const gross = order.pricesIncludeTax;
  const head = { orderNumber: text(order.source.orderNumber), orderDate: orderDate(order) };
  const row = (
    n: number,
    type: string,
    entry: { sku?: string | undefined; name: string; quantity: number; unitPrice: number; discount: number; tax: number },
    rateBp: number | undefined,
  ): Row => {
    // The source's price is gross when its prices include VAT: net and total both follow from it.
    const afterDiscount = entry.unitPrice * entry.quantity - entry.discount;
    const net = gross ? afterDiscount - entry.tax : afterDiscount;
    return {
      ...head,
      lineNumber: String(n),
      type,
      sku: text(entry.sku),
      name: text(entry.name),
      quantity: String(entry.quantity),
      unitPrice: money(entry.unitPrice),
      pricesIncludeVat: gross ? "true" : "false",
      discount: money(entry.discount),
      net: money(net),
      vatRate: percent(rateBp),
      vat: money(entry.tax),
      total: money(net + entry.tax),
      currency: order.currency,
    };
  };
  const rows: Row[] = [];
  for (const line of order.lines) {
    if (line.quantity === 0) continue;
    rows.push(
      row(
        rows.length + 1,
        line.giftCard ? "giftCard" : "product",
        {
          sku: line.sku,
          name: line.title,
          quantity: line.quantity,
          unitPrice: line.unitPrice,
          discount: line.discount,
          tax: line.tax,
        },
        line.taxRateBp,
      ),
    );
  }
  for (const s of order.shipping)
    rows.push(
      row(
        rows.length + 1,
        "shipping",
        { sku: s.code, name: s.title, quantity: 1, unitPrice: s.price, discount: s.discount, tax: s.tax },
        s.taxRateBp,
      ),
    );
  for (const f of order.fees ?? [])
    rows.push(
      row(
        rows.length + 1,
        f.duties ? "duties" : "fee",
        { name: f.title, quantity: 1, unitPrice: f.amount, discount: 0, tax: f.tax },
        f.taxRateBp,
      ),
    );
  return rows;
}

/** The table of one order in a layout; an order with nothing in it is refused, naming the order. */
export function tableOf(order: CanonicalOrder, layout: FileLayout): Table {
  const rows = layout === "pickList" ? pickList(order) : orderLines(order);
  const hasLines = layout === "pickList" ? rows.length > 0 : order.lines.some((l) => l.quantity !== 0);
  if (!hasLines)
    throw new OrderlyError(
      layout === "pickList"
        ? `Order ${order.source.orderNumber} has no lines to pick (no line with a quantity above 0), so no pick list was written. If it was all refunded or removed, nothing needs packing; otherwise check the order in the shop.`
        : `Order ${order.source.orderNumber} has no order lines, so no file was written. Check the order in the shop.`,
      { errorClass: "validation", code: "files_nothing_to_export", madeNothing: true },
    );
  return { layout, columns: layout === "pickList" ? PICK_LIST_COLUMNS : ORDER_LINE_COLUMNS, rows };
}
