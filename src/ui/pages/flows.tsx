/** The tenant's flows, with templates for common system pairs. */
import type { flows } from "../../db/schema";
import type { FlowTemplate } from "../../worker/routes/ui/flows/templates";
import { PostForm } from "../components/form";

type Row = typeof flows.$inferSelect;

export function FlowsPage(props: {
  rows: Row[];
  names: Map<string, string>;
  templates: readonly FlowTemplate[];
  canEdit: boolean;
  csrf: string;
}) {
  return (
    <>
      <h1>Flows</h1>
      <p>A flow starts when an order from a source reaches a stage, and runs its steps in order.</p>
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
