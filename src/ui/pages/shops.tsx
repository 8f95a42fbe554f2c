/** All shops: every shop the person belongs to, those needing attention first, each one click from its dashboard. */

import { COUNT_CAP, needsAttention, SHOPS_LIMIT, type ShopRow } from "../../worker/routes/ui/data/shops-overview";
import { when } from "../../worker/routes/ui/render";
import { CsrfField } from "../components/form";

/** A figure as the page shows it: a count that reached the cap reads "1,000+" (it stopped counting there). */
export const capped = (n: number) => (n >= COUNT_CAP ? `${COUNT_CAP.toLocaleString("en")}+` : String(n));

export function ShopsPage(props: {
  rows: ShopRow[];
  total: number;
  attentionOnly: boolean;
  currentTenantId: string;
  csrfToken: string;
}) {
  const rows = props.attentionOnly ? props.rows.filter(needsAttention) : props.rows;
  return (
    <>
      <h1>All shops</h1>
      <p class="help">
        Failed transfers wait for someone to retry or fix them. Kept deliveries are orders a shop sent that Orderly could not
        take; they wait under Kept, not processed until someone replays or handles them, however old. Paused connections are
        targets Orderly stopped calling after repeated failures; it probes them until they answer. Last transfer is when a flow
        last started for the shop: an order that starts no flow does not show there. Counts stop at{" "}
        {COUNT_CAP.toLocaleString("en")}. Each shop's dashboard also lists the connections whose steps failed in the last 7 days.
      </p>
      {props.total > SHOPS_LIMIT ? (
        <p>
          <strong>
            You belong to {props.total} shops; this page shows the first {SHOPS_LIMIT} by name. Reach the others with the Tenant
            switcher at the top.
          </strong>
        </p>
      ) : null}
      <search aria-label="Filter shops">
        <form method="get" action="/shops" class="filters">
          <div class="field check">
            <input id="attention" name="attention" type="checkbox" value="1" checked={props.attentionOnly} />
            <label for="attention">Needs attention only</label>
          </div>
          <button type="submit">Filter</button>
        </form>
      </search>
      {rows.length === 0 ? (
        <p role="status">
          {props.attentionOnly
            ? "No shop needs attention: no failed transfer, no kept delivery waiting, no paused connection."
            : "You belong to no shop yet."}
        </p>
      ) : (
        <table>
          <caption>
            {props.attentionOnly ? "Shops needing attention" : "Your shops"}, those with failed transfers first, then kept
            deliveries waiting, then paused connections; then by name
          </caption>
          <thead>
            <tr>
              <th scope="col">Shop</th>
              <th scope="col">Your role</th>
              <th scope="col" class="num">
                Failed transfers
              </th>
              <th scope="col" class="num">
                Transfers, last 24 h
              </th>
              <th scope="col">Last transfer</th>
              <th scope="col" class="num">
                Paused connections
              </th>
              <th scope="col" class="num">
                Kept, waiting
              </th>
              <th scope="col">
                <span class="visually-hidden">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <th scope="row">
                  {r.name}
                  {r.tenantId === props.currentTenantId ? <span class="muted"> (current)</span> : null}
                  {needsAttention(r) ? (
                    <>
                      {" "}
                      <span class="badge s-failed">needs attention</span>
                    </>
                  ) : null}
                </th>
                <td>{r.role}</td>
                <td class="num">{capped(r.failed)}</td>
                <td class="num">{capped(r.last24h)}</td>
                <td>{r.lastTransferAt === null ? "None yet" : when(r.lastTransferAt)}</td>
                <td class="num">{r.paused}</td>
                <td class="num">{capped(r.kept)}</td>
                <td>
                  {/* The switcher's own form: the session's tenant changes, then its dashboard opens. */}
                  <form method="post" action="/switch-tenant" class="inline">
                    <CsrfField token={props.csrfToken} />
                    <input type="hidden" name="tenantId" value={r.tenantId} />
                    <button type="submit" class="secondary">
                      Open<span class="visually-hidden"> {r.name}</span>
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
