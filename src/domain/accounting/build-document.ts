/**
 * Builds the invoice or credit note a target will hold from a canonical order (and refund): net
 * lines at the target's precision, VAT as the target will compute it, the VAT case, and the cents
 * difference against what the customer paid, absorbed by a rounding line up to the threshold.
 */

import { OrderlyError } from "../errors";
import { type InvoiceLine, invoiceLinesFromOrder } from "../invoice-lines";
import { divideRounded, divideRoundedBig, type RoundingMode, toDecimalString, toMinor } from "../money";
import type { CanonicalOrder, CanonicalRefund } from "../order";
import { decideVat, type VatDecision } from "../vat/vat-decision";
import type { AccountingSettings } from "./accounting-settings";
import type { AccountingDocument, DocumentLine, DocumentLineKind } from "./document";
import { convertMinor } from "./exchange";

/** A line before target rounding: whole-line net and VAT as the source computed them. */
interface SourceLine {
  kind: DocumentLineKind;
  description: string;
  sku?: string;
  sourceLineId?: string;
  quantity: number;
  net: number;
  vat: number;
  rateBp?: number;
}

export function buildInvoiceDocument(order: CanonicalOrder, settings: AccountingSettings): AccountingDocument {
  const vat = decideVat(order, settings);
  const { sales, duties } = splitDuties(order);
  // Duties last: invoiceLinesFromOrder lists fees after the rest, and only Shopify has them.
  const lines = [...invoiceLinesFromOrder(sales), ...invoiceLinesFromOrder(duties).map(notASale)];
  const source: SourceLine[] = lines.map((l) => ({
    kind: l.kind,
    description: l.description,
    ...(l.sku ? { sku: l.sku } : {}),
    quantity: l.quantity,
    net: l.net,
    vat: l.vat,
    ...(l.vatRateBp === undefined ? {} : { rateBp: l.vatRateBp }),
  }));
  return finish("invoice", order, source, { total: order.totals.total, vat: order.totals.tax }, vat, settings);
}

/** The order without its duties fees (`sales`), and an order holding only them (`duties`). */
function splitDuties(order: CanonicalOrder): { sales: CanonicalOrder; duties: CanonicalOrder } {
  const fees = order.fees ?? [];
  if (!fees.some((f) => f.duties)) return { sales: order, duties: { ...order, lines: [], shipping: [], fees: [] } };
  return {
    sales: { ...order, fees: fees.filter((f) => !f.duties) },
    duties: { ...order, lines: [], shipping: [], fees: fees.filter((f) => f.duties) },
  };
}

/**
 * Duties are the destination's customs passed on, not a sale: a `duties` line, booked without VAT
 * like the rounding line (e-conomic's dutiesProductNumber, Billy's products.duties, each falling back
 * to the rounding product; Billy's taxRates.noVat), so a 0 % duties line on a VAT-charged sale needs
 * no reduced-rate setting. The text stays "Duties".
 */
function notASale(line: InvoiceLine): Omit<InvoiceLine, "kind"> & { kind: DocumentLineKind } {
  return line.vat === 0 ? { ...line, kind: "duties", vatRateBp: 0 } : line;
}

/**
 * A credit note for one refund. Refund line amounts follow the order's tax basis (gross when the
 * order's prices include tax). Money refunded without lines (a WooCommerce refund, a Shopify refund
 * discrepancy or goodwill amount) is spread over the order's VAT rates in proportion to what was
 * sold at each, one line per rate: it takes back part of a price that carried VAT. Duties the
 * refund states (Shopify's refund `duties`) are credited on a duties line without VAT, as invoiced.
 */
export function buildCreditNoteDocument(
  order: CanonicalOrder,
  refund: CanonicalRefund,
  settings: AccountingSettings,
): AccountingDocument {
  if (refund.currency !== order.currency)
    throw new OrderlyError(
      `Refund ${refund.source.refundId} is in ${refund.currency} but order ${order.source.orderNumber} was paid in ${order.currency}, so its amounts cannot be credited on the order's invoice: create the credit note by hand in the accounting system.`,
      {
        errorClass: "validation",
        code: "refund_currency_mismatch",
        details: { refundCurrency: refund.currency, orderCurrency: order.currency },
      },
    );
  const vat = decideVat(order, settings);
  const byId = new Map(order.lines.map((l) => [l.id, l]));
  const source: SourceLine[] = [];
  for (const line of refund.lines) {
    if (line.quantity === 0 && line.subtotal === 0) continue;
    const original = byId.get(line.lineId);
    const net = order.pricesIncludeTax ? line.subtotal - line.tax : line.subtotal;
    const rateBp = original?.taxRateBp;
    source.push({
      kind: original?.giftCard ? "giftcard" : "product",
      description: original?.title ?? `Refunded line ${line.lineId}`,
      ...((line.sku ?? original?.sku) ? { sku: (line.sku ?? original?.sku) as string } : {}),
      sourceLineId: line.lineId,
      quantity: Math.max(1, line.quantity),
      net,
      vat: line.tax,
      ...(rateBp === undefined ? {} : { rateBp }),
    });
  }
  const mainRate = mainRateBp(order, vat);
  // A tax-exclusive shop states the shipping refunded net and its VAT beside it (Shopify's tax_amount).
  const shipping = refund.shipping + (order.pricesIncludeTax ? 0 : (refund.shippingTax ?? 0));
  const shippingShares = shippingByRate(order, vat);
  const statedShipping = shipping === 0 ? [] : shippingRefund(shipping, shippingShares, mainRate, settings.roundingMode);
  source.push(...statedShipping);
  // Stated duties go back on a duties line, at most what the invoice booked: the order's other
  // refunds are not at hand, so duties they gave back already cannot be taken off. Any more than
  // that is left uncredited (the totals check shows it), never spread over the sales with VAT.
  const orderDuties = dutiesGross(order);
  const statedDutiesGross = refund.duties ?? 0;
  // A refund without lines that states duties and keeps money back (Shopify's refund_discrepancy)
  // kept it off the duties: nothing else it gives back carried VAT to take it off.
  const keptOffDuties =
    refund.lines.length === 0 && refund.adjustments < 0 ? Math.min(-refund.adjustments, statedDutiesGross) : 0;
  const adjustments = refund.adjustments + keptOffDuties;
  // Duties are credited only as far as the money covers them beyond the refund's other parts (its
  // lines, stated shipping and adjustments): the rest was not given back.
  const itemised = source.reduce((sum, l) => sum + l.net + l.vat, 0) + adjustments;
  const dutiesPaid = Math.max(0, Math.min(statedDutiesGross - keptOffDuties, refund.total - itemised));
  const creditedDuties = Math.min(dutiesPaid, orderDuties);
  const statedDuties =
    creditedDuties === 0 ? [] : [splitGross("duties", dutiesText(order), creditedDuties, 0, settings.roundingMode)];
  const whole = refund.total === order.totals.total;
  const { sales } = splitDuties(order);
  // Money without lines is for what was sold: the shipping it states is credited above already, so
  // it is not spread over again (the duties and the VAT would each get too small or large a share).
  const spreadOver = whole && shipping !== 0 ? { ...sales, shipping: [] } : sales;
  // Refunding the whole order gives back exactly the duties the invoice booked, out of the money
  // the refund does not itemise, before the rest is spread over the sales (less those it states).
  let dutiesLeft = whole ? orderDuties - creditedDuties : 0;
  const unitemised = (gross: number, text: string): SourceLine[] => {
    const taken = gross > 0 ? Math.min(dutiesLeft, gross) : 0;
    dutiesLeft -= taken;
    const duties = taken === 0 ? [] : [splitGross("duties", dutiesText(order), taken, 0, settings.roundingMode)];
    // Duties last, as on the invoice.
    return [...overRates(gross - taken, text, spreadOver, vat, mainRate, settings), ...duties];
  };
  // Lines spread over the order's rates: the shop did not say which items the money was for.
  const spreadLines: SourceLine[] = [];
  if (adjustments !== 0) spreadLines.push(...unitemised(adjustments, "Refund adjustment"));
  source.push(...spreadLines);
  // The duties paid back count in full, those beyond the invoice's too: what is left is the money for the rest.
  const accounted = source.reduce((sum, l) => sum + l.net + l.vat, 0) + dutiesPaid;
  const shippingGross = shippingShares.reduce((sum, [, gross]) => sum + gross, 0);
  const remainder = refund.total - accounted;
  if (refund.lines.length > 0 && shipping === 0 && remainder !== 0 && remainder === shippingGross) {
    // Shopify's refunds/create (API 2024-10 on) no longer itemises refunded shipping: money refunded
    // beyond the lines that equals the order's shipping is that shipping, at the shipping's rate.
    source.push(...shippingRefund(remainder, shippingShares, mainRate, settings.roundingMode));
  } else if ((source.length === 0 && statedDutiesGross === 0) || (refund.lines.length === 0 && accounted !== refund.total)) {
    // Amount-only refund: each VAT rate of the order takes its share, so a lump sum refunded on a
    // mixed-rate order (books at 7 %, the rest at 19 %) carries the VAT that was charged on it.
    const text = refund.note ? `Refund: ${refund.note}` : "Refund";
    const lump = unitemised(refund.total - accounted, text);
    spreadLines.push(...lump);
    source.push(...lump);
  }
  // Duties last, as on the invoice.
  source.push(...statedDuties);
  // The shipping VAT the refund states is what it must take back: one stated at another rate than
  // the invoice booked the shipping at shows as a mismatch, not as VAT credited that was never charged.
  const shippingVat = statedShipping.reduce((sum, l) => sum + l.vat, 0);
  const statedDelta = refund.shippingTax === undefined || shipping === 0 ? 0 : refund.shippingTax - shippingVat;
  const expectedVat = source.reduce((sum, l) => sum + l.vat, 0) + statedDelta;
  const document = finish(
    "credit-note",
    order,
    source,
    { total: refund.total, vat: expectedVat },
    vat,
    settings,
    refund.source.createdAt,
  );
  const spreadOverRates = spreadToCheck(spreadLines, order, refund, settings);
  const lumpBesideDuties = dutiesToCheck(spreadLines, order, refund, creditedDuties, settings);
  if (statedDutiesGross > dutiesPaid) {
    const money = (amount: number) => fmt(amount, order.currency);
    document.warnings.push(
      `Refund ${refund.source.refundId} states ${money(statedDutiesGross)} of duties, but the money it gave back beyond its lines and shipping covers only ${money(dutiesPaid)} of them: the credit note credits ${money(creditedDuties)} of duties without VAT and not the ${money(statedDutiesGross - dutiesPaid)} kept back; if those were refunded another way, credit them by hand.`,
    );
  }
  if (dutiesPaid > creditedDuties)
    document.warnings.push(
      `The refund gives back ${fmt(dutiesPaid, order.currency)} of duties, but the invoice of order ${order.source.orderNumber} booked ${fmt(orderDuties, order.currency)}: only that is credited on the duties line; credit the rest by hand if it was due.`,
    );
  return {
    ...document,
    ...(spreadOverRates ? { spreadOverRates } : {}),
    ...(lumpBesideDuties ? { lumpBesideDuties } : {}),
  };
}

/**
 * Money refunded without lines, short of the whole order, is spread over the sales alone: several
 * such refunds that together give everything back credit VAT on the duties. The order's other
 * refunds are not at hand here, so any lump refund on an order with duties asks a person to check,
 * unless the refund itself gave back (and states) all of the order's duties. Money kept back
 * (negative) that is taken off the sales beside duties the refund states may have been kept off
 * those duties instead: that asks a person too, with or without lines (`gross` is then negative).
 */
function dutiesToCheck(
  lines: SourceLine[],
  order: CanonicalOrder,
  refund: CanonicalRefund,
  creditedDuties: number,
  settings: AccountingSettings,
): AccountingDocument["lumpBesideDuties"] {
  const duties = dutiesGross(order);
  const convert = exchangeFor(order, settings);
  const money = (amount: number) =>
    convert ? convertMinor(amount, convert.from, convert.to, convert.rate, settings.roundingMode) : amount;
  const keptBack = lines.map((l) => l.net + l.vat).filter((gross) => gross < 0);
  if (duties > 0 && (refund.duties ?? 0) > 0 && keptBack.length > 0)
    return { gross: money(keptBack.reduce((sum, gross) => sum + gross, 0)), duties: money(duties) };
  if (duties - creditedDuties <= 0 || refund.lines.length > 0 || refund.total === order.totals.total || lines.length === 0)
    return undefined;
  const gross = lines.reduce((sum, l) => sum + l.net + l.vat, 0);
  return { gross: money(gross), duties: money(duties) };
}

/**
 * Money without lines spread over more than one rate is a guess (a refund of the shirt alone on an
 * order with a book is credited partly at the book's rate), unless the whole order was refunded,
 * where each rate gets back exactly what was sold at it.
 */
function spreadToCheck(
  lines: SourceLine[],
  order: CanonicalOrder,
  refund: CanonicalRefund,
  settings: AccountingSettings,
): AccountingDocument["spreadOverRates"] {
  const ratesBp = [...new Set(lines.map((l) => l.rateBp ?? 0))].sort((a, b) => a - b);
  if (ratesBp.length < 2 || refund.total === order.totals.total) return undefined;
  const gross = lines.reduce((sum, l) => sum + l.net + l.vat, 0);
  const convert = exchangeFor(order, settings);
  return {
    gross: convert ? convertMinor(gross, convert.from, convert.to, convert.rate, settings.roundingMode) : gross,
    ratesBp,
  };
}

/**
 * The `checks` lines for a credit note whose refunded money was spread over several VAT rates
 * (`spreadOverRates`) or over the sales of an order with duties (`lumpBesideDuties`): booked as
 * Orderly decided, so not a difference, but the alert asks a person to check its VAT; none otherwise.
 */
export function spreadChecks(document: AccountingDocument, record: string, orderNumber: string): string[] {
  const checks: string[] = [];
  const spread = document.spreadOverRates;
  if (spread) {
    const rates = spread.ratesBp.map((bp) => `${bp / 100} %`);
    const listed = rates.length > 1 ? `${rates.slice(0, -1).join(", ")} and ${rates.at(-1)}` : rates.join("");
    checks.push(
      `VAT: ${record} splits ${fmt(spread.gross, document.currency)} over ${listed} in proportion to what was sold, since the shop gave the refund no lines; check it against the items refunded for order ${orderNumber} and correct the VAT by hand if it was for items of one rate.`,
    );
  }
  const duties = document.lumpBesideDuties;
  if (duties && duties.gross < 0) {
    const credited = document.lines.filter((l) => l.kind === "duties").reduce((sum, l) => sum + l.net + l.vat, 0);
    checks.push(
      `VAT: ${record} takes ${fmt(-duties.gross, document.currency)} the refund kept back off the sales at their VAT, beside ${fmt(credited, document.currency)} of duties it credits without VAT (order ${orderNumber} charged ${fmt(duties.duties, document.currency)} of them); if that money was kept off the duties, credit that much less on the duties line and correct the VAT by hand.`,
    );
  } else if (duties) {
    // Part of the duties the refund stated, on its duties line already: only the rest is in question.
    const credited = document.lines.filter((l) => l.kind === "duties").reduce((sum, l) => sum + l.net + l.vat, 0);
    const stated = credited === 0 ? "" : ` (${record} credits ${fmt(credited, document.currency)} of them on its duties line)`;
    checks.push(
      `VAT: ${record} credits ${fmt(duties.gross, document.currency)} refunded without lines at the VAT of what was sold, but order ${orderNumber} also charged ${fmt(duties.duties, document.currency)} of duties without VAT${stated}; if this refund, alone or with the order's other refunds, gave ${credited === 0 ? "the duties" : "the rest"} back, move that amount to the duties product without VAT and correct the VAT by hand.`,
    );
  }
  return checks;
}

function finish(
  type: AccountingDocument["type"],
  order: CanonicalOrder,
  sourceLines: SourceLine[],
  expectedIn: { total: number; vat: number },
  vat: VatDecision,
  settings: AccountingSettings,
  dateTime = order.source.createdAt,
): AccountingDocument {
  const mode = settings.roundingMode;
  const warnings: string[] = [];
  const convert = exchangeFor(order, settings);
  const currency = convert ? convert.to : order.currency;
  const money = (amount: number) => (convert ? convertMinor(amount, convert.from, convert.to, convert.rate, mode) : amount);

  const lines: DocumentLine[] = sourceLines.map((line) => {
    const net = money(line.net);
    const rateBp = lineRate(line, vat, warnings);
    const unitNet = line.quantity === 0 ? 0 : divideRounded(net, line.quantity, mode);
    const booked = unitNet * line.quantity;
    return {
      kind: line.kind,
      description: line.description,
      ...(line.sku ? { sku: line.sku } : {}),
      ...(line.sourceLineId ? { sourceLineId: line.sourceLineId } : {}),
      quantity: line.quantity,
      unitNet,
      net: booked,
      vatRateBp: rateBp,
      vat: divideRounded(booked * rateBp, 10_000, mode),
    };
  });
  const expected = { total: money(expectedIn.total), vat: money(expectedIn.vat) };
  const before = totalsOf(lines, settings.roundingBasis, mode);
  const difference = expected.total - before.total;
  const threshold = toMinor(settings.centsThreshold, currency);
  let mismatch: string | undefined;
  if (Math.abs(difference) > threshold) {
    mismatch = `The ${type === "invoice" ? "invoice" : "credit note"} would total ${fmt(before.total, currency)} but the ${type === "invoice" ? "customer paid" : "refund was"} ${fmt(expected.total, currency)}: a difference of ${fmt(difference, currency)}, above the threshold of ${fmt(threshold, currency)}.`;
  } else if (Math.abs(before.vat - expected.vat) > threshold) {
    mismatch = `The VAT would be ${fmt(before.vat, currency)} but the ${type === "invoice" ? "order's" : "refund's"} VAT is ${fmt(expected.vat, currency)}: above the threshold of ${fmt(threshold, currency)}.`;
  }
  if (!mismatch && difference !== 0) {
    lines.push({
      kind: "rounding",
      description: "Rounding difference",
      quantity: 1,
      unitNet: difference,
      net: difference,
      vatRateBp: 0,
      vat: 0,
    });
  }
  const totals = mismatch ? before : totalsOf(lines, settings.roundingBasis, mode);
  return {
    type,
    currency,
    ...(convert ? { exchange: convert } : {}),
    date: dateTime.slice(0, 10),
    vat,
    lines,
    totals,
    expected,
    difference,
    ...(mismatch ? { mismatch } : {}),
    warnings,
  };
}

/**
 * A document with a `mismatch` that a person booked anyway (or may book: a draft order), as
 * `differences` lines: the amounts the target holds against what the customer paid (or got back).
 * Compared with what was paid, not with the document, whose totals are then not it. `held` is in
 * minor units, positive for a credit note too; without an amount the document's own stands in.
 */
export function paidDifferences(
  document: AccountingDocument,
  held: { record: string; booked: boolean; total?: number; vat?: number },
  orderNumber: string,
): string[] {
  if (!document.mismatch) return [];
  const c = document.currency;
  const invoice = document.type === "invoice";
  const note = held.booked ? "booked despite the totals mismatch" : "correct the draft before it is invoiced";
  const line = (label: string, now: number, wanted: number, what: string) =>
    now === wanted
      ? []
      : [`${label}: ${fmt(now, c)} on ${held.record} → ${fmt(wanted, c)}, ${what} order ${orderNumber} (${note})`];
  return [
    ...line(
      "total",
      held.total ?? document.totals.total,
      document.expected.total,
      invoice ? "what the customer paid for" : "what was refunded for",
    ),
    ...line("VAT", held.vat ?? document.totals.vat, document.expected.vat, invoice ? "the VAT of" : "the VAT refunded for"),
  ];
}

/** The line's VAT rate: the source's where it gives one (reduced rates), else derived or decided. */
function lineRate(line: SourceLine, vat: VatDecision, warnings: string[]): number {
  const noVatCase = vat.case === "reverse-charge" || vat.case === "export";
  if (line.kind === "rounding" || line.kind === "giftcard" || line.kind === "duties") return line.rateBp ?? 0;
  if (noVatCase && line.vat !== 0) {
    warnings.push(
      `"${line.description}" was charged VAT on a ${vat.case} sale; it is booked as charged so the invoice equals what the customer paid.`,
    );
  }
  if (line.rateBp !== undefined) return line.rateBp;
  if (line.vat === 0) return noVatCase ? 0 : line.net === 0 ? vat.standardRateBp : 0;
  const derived = Math.round((line.vat * 10_000) / line.net);
  return Math.abs(derived - vat.standardRateBp) <= 50 ? vat.standardRateBp : Math.round(derived / 10) * 10;
}

function totalsOf(lines: DocumentLine[], basis: AccountingSettings["roundingBasis"], mode: RoundingMode) {
  const net = lines.reduce((sum, l) => sum + l.net, 0);
  let vat: number;
  if (basis === "line") vat = lines.reduce((sum, l) => sum + l.vat, 0);
  else {
    const byRate = new Map<number, number>();
    for (const l of lines) byRate.set(l.vatRateBp, (byRate.get(l.vatRateBp) ?? 0) + l.net);
    vat = [...byRate].reduce((sum, [rate, base]) => sum + divideRounded(base * rate, 10_000, mode), 0);
  }
  return { net, vat, total: net + vat };
}

function splitGross(kind: DocumentLineKind, description: string, gross: number, rateBp: number, mode: RoundingMode): SourceLine {
  const net = divideRounded(gross * 10_000, 10_000 + rateBp, mode);
  return { kind, description, quantity: 1, net, vat: gross - net, rateBp };
}

/**
 * The order's shipping by the VAT rate its invoice booked it at (`lineRate`, as `finish` books the
 * invoice's lines), gross, largest first. A shipping line without VAT is booked at 0 %, so refunded
 * shipping must be credited at 0 % too, not at the order's main rate.
 */
function shippingByRate(order: CanonicalOrder, vat: VatDecision): Array<[number, number]> {
  const byRate = new Map<number, number>();
  for (const line of invoiceLinesFromOrder({ ...order, lines: [], fees: [] })) {
    const rate = lineRate({ ...line, ...(line.vatRateBp === undefined ? {} : { rateBp: line.vatRateBp }) }, vat, []);
    byRate.set(rate, (byRate.get(rate) ?? 0) + line.net + line.vat);
  }
  return [...byRate].filter(([, gross]) => gross > 0).sort((a, b) => b[1] - a[1] || b[0] - a[0]);
}

/**
 * Refunded shipping as one line per rate the invoice booked the shipping at, each taking its share
 * (all of it for the usual single rate); an order without shipping falls back to `fallback`.
 */
function shippingRefund(gross: number, shares: Array<[number, number]>, fallback: number, mode: RoundingMode): SourceLine[] {
  const rates: Array<[number, number]> = shares.length > 0 ? shares : [[fallback, 1]];
  return spread(gross, rates)
    .filter(([, part]) => part !== 0)
    .map(([rateBp, part]) =>
      splitGross("shipping", rates.length > 1 ? `Shipping refund (${rateBp / 100} %)` : "Shipping refund", part, rateBp, mode),
    );
}

/**
 * What the order sold at each VAT rate (gross, gift cards aside), largest first; rates with
 * nothing sold are left out, and an order with nothing priced falls back to `fallback`. The caller
 * leaves out duties fees (not a sale): a whole-order refund gives them back on their own.
 */
function grossByRate(order: CanonicalOrder, vat: VatDecision, fallback: number): Array<[number, number]> {
  const noVat = vat.case === "reverse-charge" || vat.case === "export";
  const byRate = new Map<number, number>();
  for (const line of invoiceLinesFromOrder(order)) {
    if (line.kind === "giftcard") continue;
    // As for the main rate: a sale without VAT is refunded without VAT unless VAT was charged on it.
    const rate =
      noVat && line.vat === 0
        ? 0
        : lineRate({ ...line, ...(line.vatRateBp === undefined ? {} : { rateBp: line.vatRateBp }) }, vat, []);
    byRate.set(rate, (byRate.get(rate) ?? 0) + line.net + line.vat);
  }
  const shares = [...byRate].filter(([, gross]) => gross > 0).sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  return shares.length > 0 ? shares : [[fallback, 1]];
}

/**
 * Money refunded without lines as one line per VAT rate of the order, each rate taking its share
 * (a lump sum on a mixed-rate order carries the VAT that was charged on it). They are sales lines,
 * so a target books them on a product that carries that VAT.
 */
function overRates(
  gross: number,
  text: string,
  order: CanonicalOrder,
  vat: VatDecision,
  mainRate: number,
  settings: AccountingSettings,
): SourceLine[] {
  const shares = grossByRate(order, vat, mainRate);
  return spread(gross, shares)
    .filter(([, part]) => part !== 0)
    .map(([rateBp, part]) =>
      splitGross("product", shares.length > 1 ? `${text} (${rateBp / 100} %)` : text, part, rateBp, settings.roundingMode),
    );
}

/** The duties the invoice booked as `duties` lines (without VAT), gross. */
function dutiesGross(order: CanonicalOrder): number {
  return invoiceLinesFromOrder(splitDuties(order).duties)
    .map(notASale)
    .filter((l) => l.kind === "duties")
    .reduce((sum, l) => sum + l.net + l.vat, 0);
}

/** The text of the order's duties fee ("Duties"), as its invoice line reads. */
function dutiesText(order: CanonicalOrder): string {
  return (order.fees ?? []).find((f) => f.duties)?.title ?? "Duties";
}

/** `amount` split in proportion to the shares; the largest share takes the rounding remainder. */
function spread(amount: number, shares: Array<[number, number]>): Array<[number, number]> {
  const whole = shares.reduce((sum, [, gross]) => sum + gross, 0);
  const parts = shares.map(([rate, gross]): [number, number] => [
    rate,
    Number(divideRoundedBig(BigInt(amount) * BigInt(gross), BigInt(whole), "half-up")),
  ]);
  const first = parts[0];
  if (first) first[1] += amount - parts.reduce((sum, [, part]) => sum + part, 0);
  return parts;
}

/** The rate of the order's largest line, else the decided standard rate. */
function mainRateBp(order: CanonicalOrder, vat: VatDecision): number {
  const largest = [...order.lines].sort((a, b) => b.unitPrice * b.quantity - a.unitPrice * a.quantity)[0];
  if (vat.case === "reverse-charge" || vat.case === "export")
    return largest?.taxRateBp && largest.tax !== 0 ? largest.taxRateBp : 0;
  return largest?.taxRateBp ?? vat.standardRateBp;
}

function exchangeFor(order: CanonicalOrder, settings: AccountingSettings) {
  if (settings.invoiceCurrency !== "shop" || !order.exchange || order.exchange.shopCurrency === order.currency) return undefined;
  return { from: order.currency, to: order.exchange.shopCurrency, rate: order.exchange.rate };
}

function fmt(minor: number, currency: string): string {
  return `${toDecimalString(minor, currency)} ${currency}`;
}
