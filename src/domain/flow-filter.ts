/**
 * A flow's filter: a JSONata expression over the transfer input (`{ order, refund? }`, as
 * src/domain/order.ts defines it). The flow runs for an order only when the expression is truthy
 * (JSONata's own `$boolean` rules). Bounded in size when saved, and in steps, stack depth, time
 * and sequence length when run, so a merchant's expression cannot hold up an order's object.
 */
import jsonata from "jsonata";
import { OrderlyError } from "./errors";
import type { TransferInput } from "./order";

/** Longest expression a flow may keep; real filters are a line or two. */
export const FILTER_MAX_LENGTH = 2000;
/** Wall time of one evaluation (JSONata's own guard; it reads Date.now between steps). */
const TIMEOUT_MS = 50;
/**
 * Evaluation steps of one evaluation. Inside workerd the clock stands still while code runs
 * without I/O, so the time guard alone would never fire on a loop (a tail-recursive function);
 * about 100,000 steps are 50 ms in Node. A real filter takes a few hundred.
 */
const MAX_STEPS = 100_000;
/** Nesting of evaluations (recursion); JSONata's own guard. */
const MAX_DEPTH = 200;
/** Items in one sequence JSONata builds ($map over a range ...); JSONata's own guard. */
const MAX_SEQUENCE = 10_000;
/** Compiled expressions kept per isolate, by text. */
const CACHE_SIZE = 200;

type Expression = ReturnType<typeof jsonata>;

/** What JSONata throws: a plain object with a code and, mostly, a position. */
interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

/** Steps taken by each running evaluation, keyed by its root frame (one per `evaluate` call). */
const stepsTaken = new WeakMap<object, number>();
const cache = new Map<string, Expression>();

/** JSONata's message with its code and where in the expression, for a person to find it. */
export function jsonataMessage(error: unknown): string {
  const e = (error ?? {}) as JsonataFailure;
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const where = typeof e.position === "number" ? ` at character ${e.position}` : "";
  return e.code ? `${message} (${e.code}${where})` : message;
}

function compile(text: string): Expression {
  const cached = cache.get(text);
  if (cached) return cached;
  const expression = jsonata(text, { timeout: TIMEOUT_MS, stack: MAX_DEPTH, sequence: MAX_SEQUENCE });
  // One hook for every evaluation of this (shared) expression: the count lives on the call's root frame.
  expression.assign(
    Symbol.for("jsonata.__evaluate_entry") as unknown as string,
    (_node: unknown, _input: unknown, env: { base?: object }) => {
      const root = env.base;
      if (!root) return;
      const steps = (stepsTaken.get(root) ?? 0) + 1;
      stepsTaken.set(root, steps);
      if (steps > MAX_STEPS)
        throw { code: "U1001", message: `Evaluation stopped after ${MAX_STEPS} steps. Check for an infinite loop` };
    },
  );
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(text, expression);
  return expression;
}

/**
 * The filter as it is to be stored: trimmed, null when empty. Refuses (400 `flow_filter_invalid`)
 * one that is too long or does not parse, with JSONata's message and position.
 */
export function checkFilter(text: string | null | undefined): string | null {
  const filter = text?.trim() ?? "";
  if (filter === "") return null;
  if (filter.length > FILTER_MAX_LENGTH)
    throw new OrderlyError(
      `Filter: ${filter.length} characters; a filter may have at most ${FILTER_MAX_LENGTH}. Shorten it (a filter only needs to say which orders the flow takes).`,
      { errorClass: "validation", code: "flow_filter_invalid", details: { length: filter.length, max: FILTER_MAX_LENGTH } },
    );
  try {
    compile(filter);
  } catch (error) {
    const position = (error as JsonataFailure | null)?.position;
    throw new OrderlyError(`Filter: the JSONata expression does not parse: ${jsonataMessage(error)}.`, {
      errorClass: "validation",
      code: "flow_filter_invalid",
      details: { jsonata: (error as JsonataFailure | null)?.code, ...(typeof position === "number" ? { position } : {}) },
    });
  }
  return filter;
}

/** JSONata's `$boolean`: what a filter's result means for the order. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === "string") return value.length > 0;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "boolean") return value;
  if (typeof value === "function") return false;
  if (value !== null && typeof value === "object") return Object.keys(value).length > 0;
  return false;
}

export type FilterOutcome = { match: boolean } | { error: string };

/** Whether the order passes the filter, or why the expression could not say. Never throws. */
export async function evaluateFilter(text: string, input: TransferInput): Promise<FilterOutcome> {
  try {
    return { match: truthy(await compile(text).evaluate(input)) };
  } catch (error) {
    return { error: jsonataMessage(error) };
  }
}

/**
 * A filter that failed to evaluate, as its transfer's (and first step's) error: the order is
 * neither taken nor dropped unseen; the failure is alerted, and a retry runs the flow for it.
 */
export function filterFailure(message: string) {
  return {
    message: `The flow's filter could not decide on this order: ${message}. Nothing was sent for it. Fix the filter in the flow, then retry this transfer to run the flow for this order (a retry does not evaluate the filter again), or leave it failed if the order is not for this flow.`,
    code: "flow_filter_failed",
    errorClass: "validation" as const,
  };
}
