/**
 * A step's mapping: a JSONata expression over `{ order, refund, previous }` (the transfer's
 * canonical input, and what the transfer's earlier steps on the step's own connection returned, by
 * index, as the action's `ctx.previous` has them) that returns the `{ order, refund }` the step's
 * action receives. The idiom is JSONata's transform operator, which copies its input and changes
 * only what it names: `$ ~> |order|{"note": "Shop order " & order.source.orderNumber}|`.
 *
 * It runs in the filter's bounded evaluator (src/domain/flow-filter.ts), and what it returns is
 * held to the canonical schemas (money stays integer minor units). The order's identity may not
 * change: the step's reference, the adoption of what an earlier run made, and the order's other
 * transfers find it by these fields.
 */
import type { ActionResult } from "../connectors/contract";
import { OrderlyError } from "./errors";
import { evaluateBounded, expressionProblem, jsonataMessage } from "./flow-filter";
import { type CanonicalOrder, type CanonicalRefund, orderSchema, refundSchema, type TransferInput } from "./order";

/** Longest mapping a step may keep; a few recipes together are under a thousand characters. */
export const MAPPING_MAX_LENGTH = 4000;

/** A step whose mapping failed, or made an input the action cannot take. */
export const MAPPING_FAILED = "step_mapping_failed";

/** Characters of the mapped input the step's history keeps whole; above it, its head. */
export const MAPPING_SNAPSHOT_MAX = 256 * 1024;

/** What a mapping reads: the transfer's input and the outputs of the steps before it. */
export interface MappingInput {
  order: CanonicalOrder;
  refund?: CanonicalRefund;
  /** By step index; null for a step on another connection (or that made nothing yet). */
  previous: Array<ActionResult | null>;
}

export type MappingOutcome = { input: TransferInput } | { error: string };

/**
 * The mapping as it is to be stored: trimmed, null when empty. Refuses (400 `flow_mapping_invalid`,
 * naming the step) one that is too long, does not parse (JSONata's message and position) or uses
 * what a mapping may not (a regular expression, `$eval`).
 */
export function checkMapping(text: string | null | undefined, stepIndex: number): string | null {
  const mapping = text?.trim() ?? "";
  if (mapping === "") return null;
  const step = stepIndex + 1;
  const refuse = (message: string, details: Record<string, unknown>) =>
    new OrderlyError(`Step ${step}: mapping: ${message}`, {
      errorClass: "validation",
      code: "flow_mapping_invalid",
      details: { step, ...details },
    });
  if (mapping.length > MAPPING_MAX_LENGTH)
    throw refuse(`${mapping.length} characters; a mapping may have at most ${MAPPING_MAX_LENGTH}. Shorten it.`, {
      length: mapping.length,
      max: MAPPING_MAX_LENGTH,
    });
  const problem = expressionProblem(mapping, "mapping");
  if (problem)
    throw refuse(problem.message, {
      ...(problem.jsonata ? { jsonata: problem.jsonata } : {}),
      ...(problem.position === undefined ? {} : { position: problem.position }),
    });
  return mapping;
}

/** Evaluates the mapping on the input and checks what it made. Never throws. */
export async function applyMapping(
  mapping: string,
  input: TransferInput,
  previous: ReadonlyArray<ActionResult | undefined | null>,
): Promise<MappingOutcome> {
  const source: MappingInput = {
    order: input.order,
    ...(input.refund ? { refund: input.refund } : {}),
    previous: previous.map((p) => p ?? null),
  };
  let result: unknown;
  try {
    result = await evaluateBounded(mapping, source, "mapping");
  } catch (error) {
    return { error: `the expression failed: ${jsonataMessage(error)}` };
  }
  return mappedInput(result, input);
}

/** What the mapping returned, as the action's input; or why it cannot be one. */
function mappedInput(result: unknown, input: TransferInput): MappingOutcome {
  // JSONata's sequences are arrays with extra flags, and a result may hold functions: plain JSON only.
  const plain = result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown);
  if (plain === null || typeof plain !== "object" || Array.isArray(plain))
    return {
      error: `it returned ${plain === undefined ? "nothing" : Array.isArray(plain) ? "a list" : JSON.stringify(plain).slice(0, 80)}, not an object with the order: return the input changed, as \`$ ~> |order|{…}|\` does`,
    };
  const made = plain as { order?: unknown; refund?: unknown };
  if (made.order === undefined)
    return { error: 'its result has no `order`: return the input changed, as `$ ~> |order|{…}|` does, or `{"order": …}`' };
  const order = orderSchema.safeParse(made.order);
  if (!order.success) return { error: `the order it made is not valid: ${issuesText(order.error.issues, "order")}` };
  let refund = input.refund;
  if (made.refund !== undefined) {
    if (!input.refund) return { error: "it made a refund, but this transfer has none: leave `refund` out" };
    const parsed = refundSchema.safeParse(made.refund);
    if (!parsed.success) return { error: `the refund it made is not valid: ${issuesText(parsed.error.issues, "refund")}` };
    refund = parsed.data;
  }
  const changed = identityChange(input, order.data, refund);
  if (changed) return { error: changed };
  return { input: { order: order.data, ...(refund ? { refund } : {}) } };
}

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  expected?: unknown;
}

/** The first few schema issues, each at its field, with a hint for the usual JSONata slips. */
function issuesText(issues: readonly Issue[], root: string): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const at = issue.path.reduce<string>(
      (path, key) => (typeof key === "number" ? `${path}[${key}]` : `${path}.${String(key)}`),
      root,
    );
    let hint = "";
    if (issue.code === "invalid_type" && issue.expected === "int")
      hint = " (amounts are whole numbers in minor units: 12.50 is 1250; use $round)";
    if (issue.code === "invalid_type" && issue.expected === "array")
      hint = ' (JSONata gives one item, not a list of one: end the path with [] to keep a list, as lines[sku != "GIFT"][])';
    return `${at}: ${issue.message}${hint}`;
  });
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : "";
  return `${shown.join("; ")}${more}`;
}

/** The fields a transfer's references and adoption depend on; a mapping may not change them. */
const ORDER_IDENTITY: ReadonlyArray<[string, (o: CanonicalOrder) => string]> = [
  ["order.source.connector", (o) => o.source.connector],
  ["order.source.orderId", (o) => o.source.orderId],
  ["order.source.orderNumber", (o) => o.source.orderNumber],
  ["order.currency", (o) => o.currency],
];
const REFUND_IDENTITY: ReadonlyArray<[string, (r: CanonicalRefund) => string]> = [
  ["refund.source.connector", (r) => r.source.connector],
  ["refund.source.orderId", (r) => r.source.orderId],
  ["refund.source.refundId", (r) => r.source.refundId],
  ["refund.currency", (r) => r.currency],
];

function identityChange(input: TransferInput, order: CanonicalOrder, refund: CanonicalRefund | undefined): string | null {
  const say = (field: string, was: string, now: string) =>
    `it changed ${field} from ${JSON.stringify(was)} to ${JSON.stringify(now)}, which a mapping may not: the transfer's references, and finding what earlier runs made for the order, depend on it. Put the text elsewhere (order.note, a line's title)`;
  for (const [field, read] of ORDER_IDENTITY) {
    const [was, now] = [read(input.order), read(order)];
    if (was !== now) return say(field, was, now);
  }
  if (input.refund && refund)
    for (const [field, read] of REFUND_IDENTITY) {
      const [was, now] = [read(input.refund), read(refund)];
      if (was !== now) return say(field, was, now);
    }
  return null;
}

/**
 * A mapping that failed on a step's input, as the step's error: permanent (the same input fails
 * the same way), made nothing, and retried with the flow's current settings once it is fixed.
 */
export function mappingFailure(stepIndex: number, message: string): OrderlyError {
  return new OrderlyError(
    `Step ${stepIndex + 1}'s mapping could not make this order's input: ${message}. Nothing was sent. Fix the step's mapping in the flow (try it on this transfer first: the flow's dry run, or POST /api/v1/flows/mapping-preview), then retry this transfer with the flow's current settings.`,
    { errorClass: "validation", code: MAPPING_FAILED, madeNothing: true, details: { step: stepIndex + 1 } },
  );
}

/** What the step's history keeps of the mapped input: whole when small, its head otherwise. */
export function mappingSnapshot(input: TransferInput): unknown {
  const text = JSON.stringify(input);
  if (text.length <= MAPPING_SNAPSHOT_MAX) return { madeBy: "the step's mapping", input };
  return {
    madeBy: "the step's mapping",
    truncated: `the mapped input is ${text.length} characters; its first ${MAPPING_SNAPSHOT_MAX} are kept`,
    head: text.slice(0, MAPPING_SNAPSHOT_MAX),
  };
}
