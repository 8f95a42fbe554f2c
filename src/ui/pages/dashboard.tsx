/** The dashboard: transfers per day, what is failing or paused, what waits, and this month's usage. */

import type { DashboardData } from "../../worker/routes/ui/data/dashboard-data";
import { when } from "../../worker/routes/ui/render";
import { BarChart } from "../components/bar-chart";
import { monthLabel } from "../components/format";

export function DashboardPage(props: { data: DashboardData; tenantName: string }) {
  const d = props.data;
  const waiting = (d.waiting.pending ?? 0) + (d.waiting.running ?? 0) + (d.waiting.retrying ?? 0);
  return (
    <>
      <h1>Dashboard · {props.tenantName}</h1>
      <section aria-labelledby="h-chart">
        <h2 id="h-chart">Transfers per day</h2>
        <BarChart days={d.days} />
      </section>
      <div class="cards">
        <section aria-labelledby="h-waiting" class="card">
          <h2 id="h-waiting">Orders waiting</h2>
          <p class="big">{waiting}</p>
          <p>
            {d.waiting.pending ?? 0} pending · {d.waiting.running ?? 0} running · {d.waiting.retrying ?? 0} retrying.{" "}
            <a href="/transfers?status=retrying">See the retrying ones</a>
          </p>
        </section>
        <section aria-labelledby="h-failing" class="card">
          <h2 id="h-failing">Failing connections (7 days)</h2>
          {d.failing.length === 0 ? (
            <p>None. Every step of the last 7 days succeeded or is still trying.</p>
          ) : (
            <ul>
              {d.failing.map((f) => (
                <li>
                  <a href={`/connections/${f.id}`}>{f.name}</a>: {f.failures} failed step{f.failures === 1 ? "" : "s"}, last{" "}
                  {when(f.lastAt)}.{f.lastError ? <span class="muted"> e.g. “{f.lastError}”</span> : null}{" "}
                  <a href="/transfers?status=failed">Failed transfers</a>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="h-paused" class="card">
          <h2 id="h-paused">Paused connections</h2>
          {d.paused.length === 0 ? (
            <p>None. Orderly pauses a target after sustained failures and probes it until it answers.</p>
          ) : (
            <ul>
              {d.paused.map((p) => (
                <li>
                  <a href={`/connections/${p.id}`}>{p.name}</a> until {when(p.until)}
                  {p.reason ? `: ${p.reason}` : ""}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section aria-labelledby="h-usage">
        <h2 id="h-usage">Usage this month</h2>
        <p class="help">
          Records created in each connected system since {monthLabel(d.monthStart)}. An update of a record made before does not
          count.
        </p>
        {d.usage.length === 0 ? (
          <p>Nothing created yet this month.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">System</th>
                <th scope="col" class="num">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {d.usage.map((u) => (
                <tr>
                  <td>
                    <a href={`/connections/${u.id}`}>{u.name}</a>
                  </td>
                  <td>{u.connector}</td>
                  <td class="num">{u.created}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
