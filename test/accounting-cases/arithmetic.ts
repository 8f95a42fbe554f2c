/**
 * Checks that a case's own figures add up, independently of the code under test: each target's
 * lines, rounding line and VAT make its total, VAT is what rounding per rate (e-conomic) or per
 * line (Billy) gives, and the total is what the customer paid (or the mismatch says otherwise).
 */
import { amount, cents, convertAt, sum, times } from "./amounts";
import type { AccountingCase, Amount, ExpectedDocument } from "./case-types";

/** Arithmetic the table must satisfy; the doc test checks it for every case. */
export function arithmeticProblems(c: AccountingCase): string[] {
  const problems: string[] = [];
  const { invoice, creditNotes = [] } = c.expect;
  const check = (label: string, d: ExpectedDocument, paid: Amount) => {
    const netOfLines = sum(d.lines.map((l) => times(l.unitNet, l.quantity)));
    for (const [target, t, basis] of [
      ["e-conomic", d.economic, "total"],
      ["Billy", d.billy, "line"],
    ] as const) {
      const total = sum([netOfLines, t.rounding, t.vat]);
      if (total !== t.total)
        problems.push(`${label} ${target}: lines ${netOfLines} + rounding + VAT ${t.vat} = ${total}, not ${t.total}`);
      const computed = basis === "line" ? vatPerLine(d) : vatPerRate(d);
      if (computed !== t.vat) problems.push(`${label} ${target}: VAT per ${basis} is ${computed}, not ${t.vat}`);
      const expected = d.mismatch ? d.mismatch.invoice : paid;
      if (t.total !== expected) problems.push(`${label} ${target}: total ${t.total}, expected ${expected}`);
    }
    for (const v of d.vatByRate) {
      const net = sum(d.lines.filter((l) => l.rate === v.rate).map((l) => times(l.unitNet, l.quantity)));
      if (net !== v.net) problems.push(`${label}: ${v.rate} % lines add up to ${net}, not ${v.net}`);
    }
    if (sum(d.vatByRate.map((v) => v.vat)) !== d.economic.vat)
      problems.push(`${label}: VAT per rate does not add up to e-conomic's VAT`);
    if (d.mismatch && d.mismatch.paid !== d.paid)
      problems.push(`${label}: the mismatch names ${d.mismatch.paid}, not what was paid`);
  };
  const sourcePaid = c.overlay ? invoice.paid : inDocumentCurrency(c, c.source.total);
  if (invoice.paid !== sourcePaid) problems.push(`invoice: paid ${invoice.paid}, but the source says ${sourcePaid}`);
  check("invoice", invoice, invoice.paid);
  for (const [i, n] of creditNotes.entries()) {
    const given = refundAmount(c, n.refund);
    const refunded = given === undefined ? undefined : inDocumentCurrency(c, given);
    if (n.paid !== refunded) problems.push(`credit note ${i + 1}: refunded ${n.paid}, but the source says ${refunded}`);
    check(`credit note ${i + 1}`, n, n.paid);
  }
  return problems;
}

/** A source amount in the documents' currency: converted at the shop's rate when they are in the shop's currency. */
function inDocumentCurrency(c: AccountingCase, a: Amount): Amount {
  const s = c.source;
  return s.shop === "shopify" && s.shopCurrency && c.expect.currency === s.shopCurrency.currency
    ? convertAt(a, s.shopCurrency.rate)
    : a;
}

function refundAmount(c: AccountingCase, index: number): Amount | undefined {
  return c.source.refunds?.[index]?.amount;
}

const halfUp = (numerator: number, denominator: number) => {
  const q = Math.trunc(numerator / denominator);
  const r = numerator - q * denominator;
  return Math.abs(r) * 2 >= denominator ? q + Math.sign(numerator) : q;
};

/** VAT rounded once per rate (rates in percent with up to two decimals). */
function vatPerRate(d: ExpectedDocument): Amount {
  const byRate = new Map<number, number>();
  for (const l of d.lines) byRate.set(l.rate, (byRate.get(l.rate) ?? 0) + cents(l.unitNet) * l.quantity);
  return amount([...byRate].reduce((total, [rate, net]) => total + halfUp(net * Math.round(rate * 100), 10_000), 0));
}

function vatPerLine(d: ExpectedDocument): Amount {
  return amount(
    d.lines.reduce((total, l) => total + halfUp(cents(l.unitNet) * l.quantity * Math.round(l.rate * 100), 10_000), 0),
  );
}
