/**
 * The flow editor's state, read from its one form: name, trigger, filter, enabled, and the steps, each a
 * "target connection · action" choice with that action's settings fields and an optional mapping. The form works without
 * JavaScript: "Show settings" re-renders it for newly chosen actions, "Add step" adds a slot.
 */
import { getConnector } from "../../../../connectors/registry";
import type { connections, FlowStepConfig } from "../../../../db/schema";
import { STAGES, type Stage } from "../../../../domain/stage";
import { type FieldSpec, type FormData, fieldsFor, readFields } from "../forms/schema-fields";

type ConnectionRow = typeof connections.$inferSelect;

export interface FlowDraft {
  name: string;
  source: string;
  stage: Stage;
  /** The JSONata filter as typed; empty: every order. */
  filter: string;
  enabled: boolean;
  steps: FlowStepConfig[];
}

/** The filter tried on a transfer from the log (the editor's "Try the filter" button). */
export interface FilterPreview {
  transferId: string;
  /** Absent: not tried (the transfer was not found); null: the expression failed on it (`error`). */
  match?: boolean | null;
  error?: string | null;
}

/** Examples shown under the filter field, over fields the canonical order has (src/domain/order.ts). */
export const FILTER_EXAMPLES: ReadonlyArray<{ expression: string; meaning: string }> = [
  { expression: '$not("wholesale" in order.tags)', meaning: "not orders tagged wholesale" },
  { expression: "$exists(order.customer.vatNumber)", meaning: "only business customers (a VAT number given)" },
  { expression: 'order.billingAddress.country = "DK"', meaning: "only customers billed in Denmark" },
];

/** The example under each step's mapping field (docs/mapping.md has more). */
export const MAPPING_EXAMPLE = {
  // Inside `{…}` names are the picked order's own: `order.source.orderNumber` there would be empty.
  expression: '$ ~> |order|{"note": "Shop order " & source.orderNumber}|',
  meaning: "puts the shop's order number in the order's note; everything else stays as it is",
};

export interface StepChoice {
  value: string;
  label: string;
}

/** Every "target · action" a step may use in this tenant. */
export function stepChoices(rows: ConnectionRow[]): StepChoice[] {
  return rows.flatMap((row) => {
    const connector = getConnector(row.connector);
    return Object.entries(connector?.actions ?? {}).map(([action, def]) => ({
      value: `${row.id}|${action}`,
      label: `${row.name} · ${action} — ${def.description}`,
    }));
  });
}

/** The settings fields of a step's chosen action, named `step<i>.settings.<key>`. */
export function stepFields(rows: ConnectionRow[], step: FlowStepConfig, index: number): FieldSpec[] {
  const row = rows.find((r) => r.id === step.target);
  const actions = row ? getConnector(row.connector)?.actions : undefined;
  // Own keys only: a posted "constructor" would find Object's; the API then names the unknown action.
  const action = actions && Object.hasOwn(actions, step.action) ? actions[step.action] : undefined;
  return action ? fieldsFor(action.settings, `step${index}.settings`) : [];
}

const text = (form: FormData, name: string) => {
  const v = form[name];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === "string" ? one.trim() : "";
};

export function readFlowForm(form: FormData, rows: ConnectionRow[], errors: string[]): FlowDraft {
  const count = Math.min(20, Math.max(0, Number(text(form, "stepCount")) || 0));
  const steps: FlowStepConfig[] = [];
  for (let i = 0; i < count; i++) {
    const [target = "", action = ""] = text(form, `step${i}.use`).split("|");
    if (!target || !action) continue;
    const step: FlowStepConfig = { target, action, settings: {} };
    step.settings = readFields(stepFields(rows, step, i), form, errors);
    const mapping = text(form, `step${i}.mapping`);
    if (mapping) step.mapping = mapping;
    steps.push(step);
  }
  const stage = text(form, "stage");
  return {
    name: text(form, "name"),
    source: text(form, "source"),
    stage: (STAGES as readonly string[]).includes(stage) ? (stage as Stage) : "paid",
    filter: text(form, "filter"),
    enabled: text(form, "enabled") === "on",
    steps,
  };
}
