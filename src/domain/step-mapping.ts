/**
 * A step's mapping: a JSONata expression over `{ order, refund, previous }` (the transfer's
 * canonical input, and what the transfer's earlier steps on the step's own connection returned, by
 * index, as the action's `ctx.previous` has them) that returns the `{ order, refund }` the step's
 * action receives. The idiom is JSONata's transform operator, which copies its input and changes
 * only what it names: `$ ~> |order|{"note": "Shop order " & source.orderNumber}|` (inside `{…}`,
 * names are read from what `|…|` picked: here the order's own).
 *
 * It runs in the filter's bounded evaluator (src/domain/flow-filter.ts), and what it returns is
 * held to the canonical schemas (money stays integer minor units). The order's identity may not
 * change (the step's reference, the adoption of what an earlier run made, and the order's other
 * transfers find it by these fields), nor what the customer paid and how (ORDER_FROZEN, the amount
 * and VAT per rate): the invoice is checked against the mapped order, so nothing later would notice.
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

/** What a mapping may change instead of what it was refused, the end of every refusal. */
const MAY_CHANGE =
  "A mapping may move amounts between lines of the same VAT rate, change texts (titles, SKUs, the note, tags), customer fields and addresses, and drop a line of 0.00";

/** Why a group of fields is frozen, for the refusal. */
const WHY = {
  identity: "the transfer's references, and finding what earlier runs made for the order, depend on it",
  dated: "it dates the invoice and picks the EU country's VAT rate in force",
  version: "it says which version and stage of the order the step is for",
  paid: "the books must show what the customer paid, and how, as the shop reported it",
} as const;

type Frozen<T> = ReadonlyArray<[field: string, why: keyof typeof WHY, read: (value: T) => unknown]>;

/**
 * The fields a mapping may not change on the order: its identity (references and adoption depend
 * on them), its source's dates and version, and what the customer paid and how. The invoice is
 * checked against the mapped order's total, so a changed total would not be noticed later.
 */
const ORDER_FROZEN: Frozen<CanonicalOrder> = [
  ["order.source.connector", "identity", (o) => o.source.connector],
  ["order.source.orderId", "identity", (o) => o.source.orderId],
  ["order.source.orderNumber", "identity", (o) => o.source.orderNumber],
  ["order.currency", "identity", (o) => o.currency],
  ["order.source.createdAt", "dated", (o) => o.source.createdAt],
  ["order.source.version", "version", (o) => o.source.version],
  ["order.stage", "version", (o) => o.stage],
  ["order.totals.total", "paid", (o) => o.totals.total],
  ["order.totals.tax", "paid", (o) => o.totals.tax],
  ["order.pricesIncludeTax", "paid", (o) => o.pricesIncludeTax],
  ["order.exchange", "paid", (o) => o.exchange],
  ["order.payments", "paid", (o) => o.payments],
  ["order.financialStatus", "paid", (o) => o.financialStatus],
];
const REFUND_FROZEN: Frozen<CanonicalRefund> = [
  ["refund.source.connector", "identity", (r) => r.source.connector],
  ["refund.source.orderId", "identity", (r) => r.source.orderId],
  ["refund.source.refundId", "identity", (r) => r.source.refundId],
  ["refund.currency", "identity", (r) => r.currency],
  ["refund.source.createdAt", "dated", (r) => r.source.createdAt],
  ["refund.total", "paid", (r) => r.total],
  ["refund.shipping", "paid", (r) => r.shipping],
  ["refund.shippingTax", "paid", (r) => r.shippingTax],
  ["refund.adjustments", "paid", (r) => r.adjustments],
  ["refund.duties", "paid", (r) => r.duties],
  ["refund.payments", "paid", (r) => r.payments],
  // Which of the order's lines came back (each line's VAT rate is the order's): sorted, so the order of lines is free.
  ["refund.lines[].lineId", "paid", (r) => r.lines.map((l) => l.lineId).sort()],
];

/** A value as comparable text: object keys sorted, so two equal values read alike whatever their key order. */
function comparable(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    ) ?? "absent"
  );
}

/** Amount and VAT per VAT rate; a gift card's (VAT due when redeemed) and duties (none) apart from sales at the same rate. */
type RateTotals = Map<string, { amount: number; tax: number }>;

function rateName(rateBp: number | undefined, kind?: "gift card" | "duties"): string {
  const rate = rateBp === undefined ? "no rate" : `${rateBp / 100}%`;
  return kind ? `${rate}, ${kind}` : rate;
}

function addTo(totals: RateTotals, name: string, amount: number, tax: number): void {
  const now = totals.get(name) ?? { amount: 0, tax: 0 };
  totals.set(name, { amount: now.amount + amount, tax: now.tax + tax });
}

/** The order's lines, shipping and fees summed per VAT rate (amounts on the order's own tax basis). */
function orderRates(order: CanonicalOrder): RateTotals {
  const totals: RateTotals = new Map();
  for (const l of order.lines)
    addTo(totals, rateName(l.taxRateBp, l.giftCard ? "gift card" : undefined), l.quantity * l.unitPrice - l.discount, l.tax);
  for (const s of order.shipping) addTo(totals, rateName(s.taxRateBp), s.price - s.discount, s.tax);
  for (const f of order.fees ?? []) addTo(totals, rateName(f.taxRateBp, f.duties ? "duties" : undefined), f.amount, f.tax);
  return totals;
}

/** The refund's lines summed per VAT rate of the order's line each one refunds. */
function refundRates(refund: CanonicalRefund, order: CanonicalOrder): RateTotals {
  const lines = new Map(order.lines.map((l) => [l.id, l]));
  const totals: RateTotals = new Map();
  for (const r of refund.lines) {
    const line = lines.get(r.lineId);
    addTo(totals, rateName(line?.taxRateBp, line?.giftCard ? "gift card" : undefined), r.subtotal, r.tax);
  }
  return totals;
}

/** The first rate whose amount or VAT differs, as a refusal's field and values. */
function rateChange(what: string, was: RateTotals, now: RateTotals): [string, unknown, unknown] | null {
  for (const name of new Set([...was.keys(), ...now.keys()])) {
    const [a, b] = [was.get(name) ?? { amount: 0, tax: 0 }, now.get(name) ?? { amount: 0, tax: 0 }];
    if (a.tax !== b.tax) return [`the VAT at ${name} (${what}, summed)`, a.tax, b.tax];
    if (a.amount !== b.amount) return [`the amount at ${name} (${what}, summed)`, a.amount, b.amount];
  }
  return null;
}

function identityChange(input: TransferInput, order: CanonicalOrder, refund: CanonicalRefund | undefined): string | null {
  const say = (field: string, why: keyof typeof WHY, was: unknown, now: unknown) =>
    `it changed ${field} from ${comparable(was)} to ${comparable(now)}, which a mapping may not: ${WHY[why]}. ${MAY_CHANGE}`;
  const frozen = <T>(fields: Frozen<T>, before: T, after: T): string | null => {
    for (const [field, why, read] of fields) {
      const [was, now] = [read(before), read(after)];
      if (comparable(was) !== comparable(now)) return say(field, why, was, now);
    }
    return null;
  };
  const changed = frozen(ORDER_FROZEN, input.order, order);
  if (changed) return changed;
  const rates = rateChange("order lines, shipping and fees", orderRates(input.order), orderRates(order));
  if (rates) return say(rates[0], "paid", rates[1], rates[2]);
  if (input.refund && refund) {
    const refundChanged = frozen(REFUND_FROZEN, input.refund, refund);
    if (refundChanged) return refundChanged;
    const refundRate = rateChange("refund lines", refundRates(input.refund, input.order), refundRates(refund, input.order));
    if (refundRate) return say(refundRate[0], "paid", refundRate[1], refundRate[2]);
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
