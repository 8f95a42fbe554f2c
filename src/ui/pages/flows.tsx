/** The tenant's flows, with templates for common system pairs. */
import type { flows } from "../../db/schema";
import { RUN_BATCH } from "../../worker/routes/api/unplanned-orders";
import type { FlowTemplate } from "../../worker/routes/ui/flows/templates";
import { when } from "../../worker/routes/ui/render";
import { PostForm } from "../components/form";

type Row = typeof flows.$inferSelect;

/** A source's orders recorded while it had no flow on (src/db/unplanned-orders.ts). */
export interface UnplannedNotice {
  connectionId: string;
  connectionName: string;
  count: number;
  /** The source has an enabled flow now: its flows can be run for them. */
  flowOn: boolean;
  /** The oldest of them (up to RUN_BATCH), each to tick. */
  rows: Array<{ id: string; order: string; stages: string[]; firstSeenAt: number }>;
}

export function FlowsPage(props: {
  rows: Row[];
  names: Map<string, string>;
  templates: readonly FlowTemplate[];
  canEdit: boolean;
  csrf: string;
  unplanned?: UnplannedNotice[];
}) {
  return (
    <>
      <h1>Flows</h1>
      <p>A flow starts when an order from a source reaches a stage, and runs its steps in order.</p>
      <UnplannedNotices notices={props.unplanned ?? []} canEdit={props.canEdit} csrf={props.csrf} />
      {props.rows.length === 0 ? (
        <p>No flows yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Trigger</th>
              <th scope="col">Steps</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((f) => (
              <tr>
                <td>
                  <a href={`/flows/${f.id}`}>{f.name}</a>
                </td>
                <td>
                  {props.names.get(f.sourceConnectionId) ?? f.sourceConnectionId} · {f.triggerStage}
                </td>
                <td>{f.steps.map((s) => `${props.names.get(s.target) ?? s.target} ${s.action}`).join(" → ")}</td>
                <td>{f.enabled ? "enabled" : "disabled"}</td>
                <td class="actions">
                  <a href={`/flows/${f.id}/dry-run`}>Dry run</a>
                  {props.canEdit ? (
                    <PostForm
                      action={`/flows/${f.id}/toggle`}
                      csrf={props.csrf}
                      class="inline"
                      label={`Enable or disable ${f.name}`}
                    >
                      <button type="submit" class="link">
                        {f.enabled ? "Disable" : "Enable"}
                        <span class="visually-hidden"> {f.name}</span>
                      </button>
                    </PostForm>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.canEdit ? (
        <section aria-labelledby="h-new">
          <h2 id="h-new">New flow</h2>
          <p>
            <a class="button" href="/flows/new">
              Build a flow from scratch
            </a>
          </p>
          <h3>Or start from a template</h3>
          <ul class="choices">
            {props.templates.map((t) => (
              <li>
                <a href={`/flows/new?template=${t.id}`}>{t.name}</a>: {t.description}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

/**
 * Orders that arrived while their source had no flow on: not transferred, and never run by
 * themselves (one booked by hand meanwhile would be booked twice), so a person chooses: run the
 * flows for the orders ticked, dismiss those booked by hand, or run all. Plain forms: the
 * checkboxes and their two buttons work without JavaScript.
 */
function UnplannedNotices(props: { notices: UnplannedNotice[]; canEdit: boolean; csrf: string }) {
  if (props.notices.length === 0) return null;
  return (
    <section aria-labelledby="h-unplanned" class="flash error" role="status">
      <h2 id="h-unplanned">Orders not transferred</h2>
      {props.notices.map((n) => (
        <UnplannedNoticeOf notice={n} canEdit={props.canEdit} csrf={props.csrf} />
      ))}
      <p class="help">
        Running the flows books each order as if the flow had been on when it came, once, for the stages it reached while no flow
        was on. Orders you booked by hand meanwhile would be booked twice: dismiss those instead (dismissing runs nothing).
      </p>
    </section>
  );
}

function UnplannedNoticeOf(props: { notice: UnplannedNotice; canEdit: boolean; csrf: string }) {
  const n = props.notice;
  const formId = `unplanned-${n.connectionId}`;
  const choose = props.canEdit && n.flowOn;
  return (
    <>
      <p>
        {n.count} {n.count === 1 ? "order" : "orders"} from {n.connectionName} arrived while no flow was on.{" "}
        {!n.flowOn
          ? "Switch a flow on for this source first, then run the flows for them here, or dismiss the ones you booked by hand."
          : props.canEdit
            ? "Tick the orders to run the flows for, or the ones you booked by hand to dismiss."
            : "An owner or admin can run the flows for them here, or dismiss them."}
      </p>
      {props.canEdit ? (
        <PostForm action="/flows/unplanned/chosen" csrf={props.csrf} label={`Orders from ${n.connectionName} not transferred`}>
          <UnplannedTable notice={n} choose formId={formId} />
          {n.rows.length < n.count ? (
            <p class="help">
              The oldest {n.rows.length} of {n.count} are listed here; the rest show once these are run or dismissed.
            </p>
          ) : null}
          {choose ? (
            <button type="submit" name="op" value="run">
              Run flows for the ticked orders
            </button>
          ) : null}{" "}
          <button type="submit" name="op" value="dismiss">
            Dismiss the ticked orders
          </button>
        </PostForm>
      ) : (
        <UnplannedTable notice={n} choose={false} formId={formId} />
      )}
      {choose ? (
        <PostForm
          action="/flows/unplanned/run"
          csrf={props.csrf}
          class="inline"
          label={`Run flows for every listed order from ${n.connectionName}`}
        >
          <input type="hidden" name="connectionId" value={n.connectionId} />
          <button type="submit">
            Run all: every listed order from {n.connectionName} ({Math.min(n.count, RUN_BATCH)}
            {n.count > RUN_BATCH ? ` of ${n.count}, oldest first` : ""})
          </button>
        </PostForm>
      ) : null}
      {choose ? (
        <p class="help">
          Run all runs the flows for every order listed, including any you booked by hand: dismiss those first. Up to {RUN_BATCH}{" "}
          orders a click, oldest first.
        </p>
      ) : null}
    </>
  );
}

function UnplannedTable(props: { notice: UnplannedNotice; choose: boolean; formId: string }) {
  const n = props.notice;
  return (
    <table>
      <thead>
        <tr>
          {props.choose ? (
            <th scope="col">
              <span class="visually-hidden">Choose</span>
            </th>
          ) : null}
          <th scope="col">Order</th>
          <th scope="col">Stages reached with no flow on</th>
          <th scope="col">First seen</th>
        </tr>
      </thead>
      <tbody>
        {n.rows.map((r, i) => {
          const id = `${props.formId}-${i}`;
          return (
            <tr>
              {props.choose ? (
                <td>
                  <input type="checkbox" name="ids" value={r.id} id={id} />
                </td>
              ) : null}
              <td>{props.choose ? <label for={id}>{r.order}</label> : r.order}</td>
              <td>{r.stages.join(", ")}</td>
              <td>{when(r.firstSeenAt)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
