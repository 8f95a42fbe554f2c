/** The flow editor: trigger, steps with settings generated from each action's schema, save. */

import type { FlowDraft, StepChoice } from "../../worker/routes/ui/flows/flow-form";
import type { FieldSpec } from "../../worker/routes/ui/forms/schema-fields";
import { Errors, PostForm, SelectField, TextField } from "../components/form";
import { SchemaFields } from "../components/schema-form";

export function FlowEditorPage(props: {
  flowId?: string;
  draft: FlowDraft;
  sources: Array<{ value: string; label: string }>;
  stages: readonly string[];
  choices: StepChoice[];
  stepFields: FieldSpec[][];
  csrf: string;
  errors?: string[];
  note?: string;
}) {
  const d = props.draft;
  const slots = d.steps.length > 0 ? d.steps : [{ target: "", action: "", settings: {} }];
  return (
    <>
      <h1>{props.flowId ? `Flow: ${d.name}` : "New flow"}</h1>
      {props.note ? <p class="flash ok">{props.note}</p> : null}
      <Errors errors={props.errors} />
      {props.sources.length === 0 ? (
        <p class="flash error">
          This tenant has no source connection yet. <a href="/connections/new">Add a webshop first</a>.
        </p>
      ) : null}
      <PostForm action={props.flowId ? `/flows/${props.flowId}` : "/flows"} csrf={props.csrf} label="Flow">
        <input type="hidden" name="stepCount" value={String(slots.length)} />
        <TextField id="name" name="name" label="Name" value={d.name} required />
        <fieldset>
          <legend>Trigger</legend>
          <SelectField
            id="source"
            name="source"
            label="Source"
            options={props.sources}
            value={d.source}
            help="The webshop whose orders start this flow."
          />
          <SelectField
            id="stage"
            name="stage"
            label="Stage"
            options={props.stages.map((s) => ({ value: s, label: s }))}
            value={d.stage}
            help="The flow runs once for each order that reaches this stage."
          />
        </fieldset>
        {slots.map((step, i) => (
          <fieldset class="step">
            <legend>Step {i + 1}</legend>
            <SelectField
              id={`step${i}-use`}
              name={`step${i}.use`}
              label="Target and action"
              options={[{ value: "", label: "(choose, or leave empty to drop this step)" }, ...props.choices]}
              value={step.target ? `${step.target}|${step.action}` : ""}
            />
            <button type="submit" name="_op" value="refresh" class="secondary">
              Show settings for the chosen action
            </button>
            <SchemaFields fields={props.stepFields[i] ?? []} values={step.settings} />
          </fieldset>
        ))}
        <p>
          <button type="submit" name="_op" value="add" class="secondary">
            Add a step
          </button>
        </p>
        <div class="field check">
          <input id="enabled" name="enabled" type="checkbox" checked={d.enabled} />
          <label for="enabled">Enabled</label>
        </div>
        <button type="submit" name="_op" value="save">
          Save flow
        </button>
      </PostForm>
      {props.flowId ? (
        <section aria-labelledby="h-more">
          <h2 id="h-more">More</h2>
          <p>
            <a href={`/flows/${props.flowId}/dry-run`}>Dry run a recent order through this flow</a>
          </p>
          <PostForm action={`/flows/${props.flowId}/delete`} csrf={props.csrf} class="danger" label="Delete flow">
            <button type="submit" class="danger">
              Delete this flow
            </button>
            <p class="help">Its transfers stay in the log.</p>
          </PostForm>
        </section>
      ) : null}
    </>
  );
}
