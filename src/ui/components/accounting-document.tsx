/** The accounting document a step would book: lines, VAT case, totals, cents difference or mismatch. */
import type { AccountingDocument } from "../../domain/accounting/document";
import { amount } from "../../worker/routes/ui/render";

export function AccountingDocumentView(props: { doc: AccountingDocument; caption: string }) {
  const d = props.doc;
  const money = (minor: number) => amount(minor, d.currency);
  return (
    <div class="document">
      <p>
        {d.type === "invoice" ? "Invoice" : "Credit note"} dated {d.date} in {d.currency}
        {d.exchange ? ` (converted from ${d.exchange.from} at ${d.exchange.rate})` : ""}. VAT case: <strong>{d.vat.case}</strong>{" "}
        (zone {d.vat.zone}, destination {d.vat.destination}
        {d.vat.vatCountry ? `, ${d.vat.vatCountry} VAT at ${d.vat.standardRateBp / 100}%` : ", no VAT due"}
        {d.vat.b2b ? ", business buyer" : ""}).
      </p>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col" class="num">
              Qty
            </th>
            <th scope="col" class="num">
              Unit net
            </th>
            <th scope="col" class="num">
              Net
            </th>
            <th scope="col" class="num">
              VAT rate
            </th>
            <th scope="col" class="num">
              VAT
            </th>
          </tr>
        </thead>
        <tbody>
          {d.lines.map((l) => (
            <tr class={l.kind === "rounding" ? "rounding" : undefined}>
              <td>
                {l.description}
                {l.sku ? <span class="muted"> ({l.sku})</span> : null}
                {l.kind !== "product" ? <span class="muted"> · {l.kind}</span> : null}
              </td>
              <td class="num">{l.quantity}</td>
              <td class="num">{money(l.unitNet)}</td>
              <td class="num">{money(l.net)}</td>
              <td class="num">{l.vatRateBp / 100}%</td>
              <td class="num">{money(l.vat)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colspan={3}>
              Totals
            </th>
            <td class="num">{money(d.totals.net)}</td>
            <td />
            <td class="num">{money(d.totals.vat)}</td>
          </tr>
          <tr>
            <th scope="row" colspan={5}>
              Invoice total
            </th>
            <td class="num">
              <strong>{money(d.totals.total)}</strong>
            </td>
          </tr>
        </tfoot>
      </table>
      <p>
        The customer paid {money(d.expected.total)} (VAT {money(d.expected.vat)}).{" "}
        {d.mismatch
          ? null
          : d.difference === 0
            ? "The totals match to the cent."
            : `A cents difference of ${money(d.difference)} is booked as a rounding line.`}
      </p>
      {d.mismatch ? (
        <p class="flash error" role="alert">
          Mismatch: {d.mismatch} This step would fail and nothing would be booked.
        </p>
      ) : null}
      {d.warnings.length > 0 ? (
        <ul class="warnings">
          {d.warnings.map((w) => (
            <li>{w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
