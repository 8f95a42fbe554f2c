/** Dry run: what the flow would book for one recent order. Nothing is sent. */
import type { DryRun } from "../../worker/routes/ui/flows/dry-run";
import { amount, when } from "../../worker/routes/ui/render";
import { AccountingDocumentView } from "../components/accounting-document";
import { JsonView } from "../components/json-view";

export function FlowDryRunPage(props: { flowId: string; flowName: string; run: DryRun }) {
  const r = props.run;
  const order = r.chosen?.input.order;
  return (
    <>
      <h1>Dry run: {props.flowName}</h1>
      <p class="flash ok" role="note">
        A preview of what would be booked. Nothing is sent to any system.
      </p>
      {r.candidates.length === 0 ? (
        <p>The flow's source has sent no order yet. Send one, then come back.</p>
      ) : (
        <form method="get" action={`/flows/${props.flowId}/dry-run`} class="inline-form">
          <label for="transfer">Order</label>
          <select id="transfer" name="transfer">
            {r.candidates.map((t) => (
              <option value={t.id} selected={t.id === r.chosen?.transferId}>
                {`${t.orderNumber ?? "?"} · ${t.stage} · ${when(t.createdAt)}`}
              </option>
            ))}
          </select>
          <button type="submit">Preview</button>
        </form>
      )}
      {order ? (
        <section aria-labelledby="h-order">
          <h2 id="h-order">
            Order {order.source.orderNumber} ({amount(order.totals.total, order.currency)})
          </h2>
          <JsonView summary="The canonical order" value={r.chosen?.input} />
        </section>
      ) : null}
      {r.steps.map((s) => (
        <section aria-labelledby={`h-step-${s.index}`}>
          <h2 id={`h-step-${s.index}`}>
            Step {s.index + 1}: {s.target} · {s.action}
          </h2>
          <p class="muted">{s.description}</p>
          {s.mappingError ? (
            <p class="flash error" role="alert">
              This step's mapping fails on this order: {s.mappingError}. Fix the mapping in the flow.
            </p>
          ) : null}
          {s.mapped ? <JsonView summary={`The order as step ${s.index + 1}'s mapping makes it`} value={s.mapped} /> : null}
          {s.document ? (
            <AccountingDocumentView doc={s.document} caption={`What would be booked by step ${s.index + 1}`} />
          ) : (
            <p>{s.note}</p>
          )}
        </section>
      ))}
      <p>
        <a href={`/flows/${props.flowId}`}>Back to the flow</a>
      </p>
    </>
  );
}
