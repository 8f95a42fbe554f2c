/** The transfer log: search, filters, and a keyset-paginated table, newest first. */

import { TRANSFER_STATUSES, type transfers } from "../../db/schema";
import { STAGES } from "../../domain/stage";
import type { TransferFilters } from "../../worker/routes/ui/data/transfer-list";
import { amount, when } from "../../worker/routes/ui/render";
import { StatusBadge } from "../components/status";

type Row = typeof transfers.$inferSelect;

export function TransfersPage(props: {
  rows: Row[];
  filters: TransferFilters;
  sources: Array<{ id: string; name: string }>;
  nextHref: string | null;
  firstHref: string | null;
}) {
  const f = props.filters;
  const names = new Map(props.sources.map((s) => [s.id, s.name]));
  return (
    <>
      <h1>Transfer log</h1>
      <search aria-label="Search transfers">
        <form method="get" action="/transfers" class="filters">
          {/* The failure alert's link filters by target; the form keeps it until it is cleared. */}
          {f.target ? <input type="hidden" name="target" value={f.target} /> : null}
          <div class="field wide">
            <label for="q">Search</label>
            <input id="q" name="q" type="search" value={f.q ?? ""} aria-describedby="q-help" />
            <p class="help" id="q-help">
              An order number (#1001), an email, an amount with decimals (249.00), or part of a customer's name.
            </p>
          </div>
          <div class="field">
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">Any</option>
              {TRANSFER_STATUSES.map((s) => (
                <option value={s} selected={s === f.status}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="stage">Stage</label>
            <select id="stage" name="stage">
              <option value="">Any</option>
              {STAGES.map((s) => (
                <option value={s} selected={s === f.stage}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="connection">Source</label>
            <select id="connection" name="connection">
              <option value="">Any</option>
              {props.sources.map((s) => (
                <option value={s.id} selected={s.id === f.connection}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="from">From (UTC)</label>
            <input id="from" name="from" type="date" value={f.from ?? ""} />
          </div>
          <div class="field">
            <label for="to">To (UTC)</label>
            <input id="to" name="to" type="date" value={f.to ?? ""} />
          </div>
          <button type="submit">Search</button>
        </form>
      </search>
      {props.rows.length === 0 ? (
        <p role="status">No transfers match.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Transfers, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Status</th>
              <th scope="col">Stage</th>
              <th scope="col">Customer</th>
              <th scope="col" class="num">
                Amount
              </th>
              <th scope="col">Source</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((t) => (
              <tr>
                <td>
                  <a href={`/transfers/${t.id}`}>{t.orderNumber ?? t.orderId}</a>
                </td>
                <td>
                  <StatusBadge status={t.status} />
                  {t.status === "failed" && t.errorReason ? <span class="reason"> {t.errorReason.slice(0, 120)}</span> : null}
                </td>
                <td>{t.stage}</td>
                <td>
                  {t.customerName ?? ""}
                  {t.customerEmail ? <span class="muted"> {t.customerEmail}</span> : null}
                </td>
                <td class="num">{amount(t.total, t.currency)}</td>
                <td>{names.get(t.sourceConnectionId) ?? t.sourceConnectionId}</td>
                <td>{when(t.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages" class="pager">
        {props.firstHref ? <a href={props.firstHref}>Newest</a> : null}
        {props.nextHref ? (
          <a href={props.nextHref} rel="next">
            Older transfers
          </a>
        ) : null}
      </nav>
    </>
  );
}
