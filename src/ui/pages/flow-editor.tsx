/** The flow editor: trigger, filter, steps with settings generated from each action's schema, save. */

import { FILTER_MAX_LENGTH } from "../../domain/flow-filter";
import { MAPPING_MAX_LENGTH } from "../../domain/step-mapping";
import {
  FILTER_EXAMPLES,
  type FilterPreview,
  type FlowDraft,
  MAPPING_EXAMPLE,
  type StepChoice,
} from "../../worker/routes/ui/flows/flow-form";
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
  preview?: FilterPreview;
  /** A step's mapping refused when saved (`flow_mapping_invalid`), by step index: shown beside it. */
  mappingErrors?: Record<number, string>;
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
          <FilterField filter={d.filter} preview={props.preview} />
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
            <MappingField index={i} mapping={step.mapping ?? ""} error={props.mappingErrors?.[i]} />
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

/** The optional JSONata filter, its examples, and a try-out on a transfer from the log. */
function FilterField(props: { filter: string; preview?: FilterPreview }) {
  const p = props.preview;
  return (
    <>
      <div class="field">
        <label for="filter">Filter (optional)</label>
        <textarea id="filter" name="filter" rows={3} maxlength={FILTER_MAX_LENGTH} aria-describedby="filter-help">
          {props.filter}
        </textarea>
        <div class="help" id="filter-help">
          <p>
            A JSONata expression over <code>order</code> (and <code>refund</code> on refund stages): the flow takes an order only
            when it is true. Leave it empty for every order. Checked when saved; one that fails on an order fails that order's
            transfer (alerted, and it can be retried) instead of skipping it. For example:
          </p>
          <ul>
            {FILTER_EXAMPLES.map((e) => (
              <li>
                <code>{e.expression}</code>: {e.meaning}
              </li>
            ))}
          </ul>
        </div>
      </div>
      <div class="field">
        <label for="previewTransfer">Try the filter on a transfer</label>
        <input
          id="previewTransfer"
          name="previewTransfer"
          type="text"
          value={p?.transferId ?? ""}
          aria-describedby="previewTransfer-help"
        />
        <p class="help" id="previewTransfer-help">
          A transfer id from the transfer log: its order is checked against the filter above. Nothing is saved or sent.
        </p>
        <button type="submit" name="_op" value="preview" class="secondary">
          Try the filter
        </button>
        {p && p.match !== undefined ? (
          <p class={p.match === null ? "flash error" : "flash ok"} role="status">
            {p.match === null
              ? `The filter fails on transfer ${p.transferId}'s order: ${p.error ?? "no reason given"}. A flow with it would fail that transfer.`
              : p.match
                ? `Match: the flow would take transfer ${p.transferId}'s order.`
                : `No match: the flow would not take transfer ${p.transferId}'s order.`}
          </p>
        ) : null}
      </div>
    </>
  );
}

/** A step's optional JSONata mapping, folded away (most steps need none), open when set or refused. */
function MappingField(props: { index: number; mapping: string; error?: string | undefined }) {
  const id = `step${props.index}-mapping`;
  return (
    <details class="mapping" open={props.mapping !== "" || props.error !== undefined}>
      <summary>Advanced: mapping (JSONata)</summary>
      <div class="field">
        <label for={id}>Mapping for step {props.index + 1} (optional)</label>
        <textarea
          id={id}
          name={`step${props.index}.mapping`}
          rows={4}
          maxlength={MAPPING_MAX_LENGTH}
          aria-describedby={props.error ? `${id}-error ${id}-help` : `${id}-help`}
          aria-invalid={props.error ? "true" : undefined}
        >
          {props.mapping}
        </textarea>
        {props.error ? (
          <p class="flash error" id={`${id}-error`} role="alert">
            {props.error}
          </p>
        ) : null}
        <div class="help" id={`${id}-help`}>
          <p>
            Changes what this step receives: a JSONata expression over <code>order</code>, <code>refund</code> and{" "}
            <code>previous</code> (what earlier steps on the same connection returned) that returns the order (and refund) the
            step books. Leave it empty to book the order as it is. The order number, order id and currency cannot change, and
            amounts stay whole numbers in minor units. Checked when saved; one that fails on an order fails this step (alerted,
            and it can be retried once fixed). The dry run shows what it makes. For example:
          </p>
          <p>
            <code>{MAPPING_EXAMPLE.expression}</code>: {MAPPING_EXAMPLE.meaning}
          </p>
        </div>
      </div>
    </details>
  );
}
