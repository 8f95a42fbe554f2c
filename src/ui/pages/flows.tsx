/** The tenant's flows, with templates for common system pairs. */
import type { flows } from "../../db/schema";
import { RUN_BATCH } from "../../worker/routes/api/unplanned-orders";
import type { FlowTemplate } from "../../worker/routes/ui/flows/templates";
import { PostForm } from "../components/form";

type Row = typeof flows.$inferSelect;

/** A source's orders recorded while it had no flow on (src/db/unplanned-orders.ts). */
export interface UnplannedNotice {
  connectionId: string;
  connectionName: string;
  count: number;
  /** The source has an enabled flow now: its flows can be run for them. */
  flowOn: boolean;
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
 * themselves (one booked by hand meanwhile would be booked twice), so a person runs them here.
 */
function UnplannedNotices(props: { notices: UnplannedNotice[]; canEdit: boolean; csrf: string }) {
  if (props.notices.length === 0) return null;
  return (
    <section aria-labelledby="h-unplanned" class="flash error" role="status">
      <h2 id="h-unplanned">Orders not transferred</h2>
      <ul>
        {props.notices.map((n) => (
          <li>
            {n.count} {n.count === 1 ? "order" : "orders"} from {n.connectionName} arrived while no flow was on.{" "}
            {!n.flowOn ? (
              "Switch a flow on for this source first, then run the flows for them here."
            ) : props.canEdit ? (
              <PostForm
                action="/flows/unplanned/run"
                csrf={props.csrf}
                class="inline"
                label={`Run flows for the orders from ${n.connectionName}`}
              >
                <input type="hidden" name="connectionId" value={n.connectionId} />
                <button type="submit">Run flows for them now</button>
              </PostForm>
            ) : (
              "An owner or admin can run the flows for them here."
            )}
          </li>
        ))}
      </ul>
      <p class="help">
        Running the flows books each order as if the flow had been on when it came, once. Orders you booked by hand meanwhile
        would be booked twice: leave those out (the API runs chosen orders: POST /api/v1/unplanned-orders/run with their ids). Up
        to {RUN_BATCH} orders are run per click, oldest first.
      </p>
    </section>
  );
}
