/**
 * A flow's filter: a JSONata expression over the transfer input (`{ order, refund? }`, as
 * src/domain/order.ts defines it). The bounded evaluator here is shared with a step's mapping
 * (src/domain/step-mapping.ts): one set of bounds, worded for whichever kind of expression it runs. The flow runs for an order only when the expression is truthy
 * (JSONata's own `$boolean` rules). Bounded in size when saved, and in steps, stack depth, time,
 * sequence length and the size of what it builds when run, so a merchant's expression cannot hold
 * up, or run out of memory, the isolate that runs it (an order's object, or the API's preview).
 * Regular expressions and `$eval` are refused: a regex can backtrack for seconds in one step.
 */
import jsonata from "jsonata";
import { OrderlyError } from "./errors";
import type { TransferInput } from "./order";

/** Longest expression a flow may keep; real filters are a line or two. */
export const FILTER_MAX_LENGTH = 2000;
/**
 * Wall time of one evaluation (JSONata's own guard; it reads Date.now between steps). A backstop
 * only: in workerd the clock does not move while code runs, and the step bound below stops work
 * near 50 ms. At 50 ms it fired first on a slow, shared machine, so the reason a merchant read
 * (and a test saw) depended on the machine, not the expression.
 */
const TIMEOUT_MS = 1000;
/**
 * Evaluation steps of one evaluation. Inside workerd the clock stands still while code runs
 * without I/O, so the time guard alone would never fire on a loop (a tail-recursive function);
 * about 100,000 steps are 50 ms in Node. A real filter takes a few hundred. Work a single step
 * does in proportion to its values (comparing, converting or sorting them) is charged as steps
 * too, one per WORK_PER_STEP units.
 */
const MAX_STEPS = 100_000;
const WORK_PER_STEP = 100;
/**
 * Units of work per character of a value `$clone` copies (the transform operator's copy): written
 * as JSON, read back, and the copy measured when a step returns it. Measured in Node, a loop of
 * copies of a 300 KB order stops near 50 ms with it.
 */
const CLONE_WORK = 4;
/** Nesting of evaluations (recursion); JSONata's own guard. */
const MAX_DEPTH = 200;
/** Items in one sequence JSONata builds ($map over a range ...); JSONata's own guard. */
const MAX_SEQUENCE = 10_000;
/**
 * Largest value one step may make or take: a string's characters, or a structure's size written
 * as JSON (shared parts counted each time, as $string or `=` walk them). Above any order (the API
 * takes at most 1 MiB), so only an expression that builds it runs into it; a value this size is
 * a few MB, and a built-in that would make a larger one is refused before it runs.
 */
const MAX_VALUE_SIZE = 2_000_000;
/**
 * What one evaluation may allocate in all: the characters of every string a step returns plus
 * the entries of every array or object it sees first. Tens of MB at most, in an isolate that
 * holds other orders' objects (128 MB).
 */
const MAX_ALLOCATED = 5_000_000;
/** `$pad`'s widest result; a filter compares values, it does not lay out text. */
const MAX_PAD_WIDTH = 1000;
/** Nesting of a structure the size count walks at once (one the expression builds level by level is counted as it goes). */
const MAX_NESTING = 1000;
/** Compiled expressions kept per isolate, by kind and text. */
const CACHE_SIZE = 200;

/** The kinds of merchant expression the evaluator runs; each is named in its own errors. */
export type ExpressionKind = "filter" | "mapping";

/** What an expression of a kind is for, in the message of a value-size bound. */
const PURPOSE: Record<ExpressionKind, string> = {
  filter: "A filter only needs to compare the order's values",
  mapping: "A mapping only needs to reshape the order's values",
};

type Expression = ReturnType<typeof jsonata>;

/** What JSONata throws: a plain object with a code and, mostly, a position. */
interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

/** A value's size as JSON, and its nesting and number of values (for `$string`'s indented form). */
interface Size {
  chars: number;
  height: number;
  nodes: number;
}

/** One evaluation's account, keyed by its root frame (one per `evaluate` call). */
interface Run {
  kind: ExpressionKind;
  steps: number;
  allocated: number;
  /** Sizes of the arrays and objects seen, so a structure shared many times is measured once. */
  sizes: WeakMap<object, Size>;
  /** Each expression node's last result size, for the operator that reads it next (`=`, `in`, `&`). */
  last: WeakMap<object, number>;
}

/** The frame a JSONata hook or built-in is handed; `base` is the evaluation's root frame. */
interface Frame {
  base?: object;
}

const runs = new WeakMap<object, Run>();
const cache = new Map<string, Expression>();

/** Expression nodes whose result may be a new string: an operator's (`&`), a function call's. */
const MAKES_STRINGS = new Set(["binary", "function", "apply", "partial"]);
/** Operators that walk whole values: deep equality, and conversion to text. */
const WALKING_OPERATORS = new Set(["=", "!=", "in", "&"]);

function stop(code: string, message: string): never {
  throw { code, message } satisfies JsonataFailure;
}

/** Charges `units` of work to the evaluation's steps; stops it past MAX_STEPS. */
function charge(run: Run, steps: number): void {
  run.steps += steps;
  if (run.steps > MAX_STEPS) stop("U1001", `Evaluation stopped after ${MAX_STEPS} steps. Check for an infinite loop`);
}

function allocate(run: Run, units: number): void {
  run.allocated += units;
  if (run.allocated > MAX_ALLOCATED)
    stop("U1002", `Evaluation stopped: it built more than ${MAX_ALLOCATED} characters and items. ${PURPOSE[run.kind]}`);
}

/** A function value (built-in or lambda): no size, and never walked (a lambda holds its whole scope). */
function isFunctionValue(value: object): boolean {
  const v = value as { _jsonata_function?: boolean; _jsonata_lambda?: boolean };
  return v._jsonata_function === true || v._jsonata_lambda === true;
}

/** The size of a value, structures measured once per evaluation; refuses one over MAX_VALUE_SIZE. */
function sizeOf(value: unknown, run: Run, depth = 0): Size {
  if (typeof value === "string") return { chars: value.length + 2, height: 0, nodes: 1 };
  if (value === null || typeof value === "number" || typeof value === "boolean") return { chars: 8, height: 0, nodes: 1 };
  if (typeof value !== "object" || isFunctionValue(value)) return { chars: 0, height: 0, nodes: 0 };
  const known = run.sizes.get(value);
  if (known) return known;
  if (depth > MAX_NESTING) stop("U1003", `A value is nested more than ${MAX_NESTING} levels deep`);
  const size: Size = { chars: 2, height: 1, nodes: 1 };
  const add = (item: unknown, extra: number) => {
    const s = sizeOf(item, run, depth + 1);
    size.chars += s.chars + extra;
    size.nodes += s.nodes;
    size.height = Math.max(size.height, s.height + 1);
    if (size.chars > MAX_VALUE_SIZE) tooLarge(size.chars, run.kind);
  };
  let entries = 0;
  if (Array.isArray(value)) {
    for (const item of value) add(item, 1);
    entries = value.length;
  } else {
    for (const [key, item] of Object.entries(value)) add(item, key.length + 4);
    entries = size.nodes;
  }
  allocate(run, entries);
  run.sizes.set(value, size);
  return size;
}

function tooLarge(size: number, kind: ExpressionKind): never {
  return stop(
    "U1004",
    `A value of ${size} characters or more was built; a ${kind} may build at most ${MAX_VALUE_SIZE}. ${PURPOSE[kind]}`,
  );
}

function runOf(frame: Frame | undefined): Run | undefined {
  return frame?.base ? runs.get(frame.base) : undefined;
}

/** A step's result: counted, and a value too large (or the work of a walking operator) stopped. */
function afterStep(expr: { type?: string; value?: unknown; lhs?: object; rhs?: object }, result: unknown, run: Run): void {
  let size = 0;
  if (typeof result === "string") {
    if (result.length > MAX_VALUE_SIZE) tooLarge(result.length, run.kind);
    // Counted where a string is made (`&`, a function's result), not again at each node it passes through.
    if (MAKES_STRINGS.has(String(expr.type))) allocate(run, result.length);
  } else if (result !== null && typeof result === "object") {
    size = sizeOf(result, run).chars;
  }
  run.last.set(expr, size);
  // The operator has walked both operands already; a loop of such walks still ends at MAX_STEPS.
  if (expr.type === "binary" && WALKING_OPERATORS.has(String(expr.value))) {
    const walked = (expr.lhs ? (run.last.get(expr.lhs) ?? 0) : 0) + (expr.rhs ? (run.last.get(expr.rhs) ?? 0) : 0);
    charge(run, Math.floor(walked / WORK_PER_STEP));
  }
}

/**
 * Built-ins whose result differs from one call to the next (JSONata's function list: the clock,
 * randomness). A filter is evaluated once, when the transfer is planned; a mapping on every attempt
 * of its step, which must send the same thing each time.
 */
const UNREPEATABLE = new Set(["now", "millis", "random", "shuffle"]);

/**
 * What a filter (or mapping) may not use, or null. A regular expression can backtrack for seconds inside one
 * step (`/^(a|a)+$/`), where no step count or clock can stop it; `$eval` would compile one (or
 * anything) from a string at run time; a mapping may not read the clock or chance (UNREPEATABLE).
 * Found in the compiled tree, wherever they sit.
 */
function refusedIn(ast: unknown, kind: ExpressionKind): string | null {
  const seen = new Set<object>();
  const walk = (node: unknown): string | null => {
    if (node === null || typeof node !== "object" || seen.has(node)) return null;
    seen.add(node);
    const n = node as { type?: unknown; value?: unknown; position?: unknown };
    const at = typeof n.position === "number" ? ` (at character ${n.position})` : "";
    if (n.type === "regex")
      return `regular expressions (/…/) are not allowed in a ${kind}${at}: one can take seconds on a single value. Compare with strings instead ($contains, $substringBefore, $lowercase, =)`;
    if (n.type === "variable" && n.value === "eval")
      return `$eval is not allowed in a ${kind}${at}: write the expression itself instead`;
    if (kind === "mapping" && n.type === "variable" && typeof n.value === "string" && UNREPEATABLE.has(n.value))
      return `$${n.value} is not allowed in a mapping${at}: a mapping runs on every attempt and must give the same result each time (a retry would send a different body under the same reference). Take dates and numbers from the order (order.source.createdAt)`;
    for (const child of Object.values(node)) {
      const found = walk(child);
      if (found) return found;
    }
    return null;
  };
  return walk(ast);
}

/** The regular-expression engine an expression gets: none (refusedIn keeps them out; this is the backstop). */
function noRegex(kind: ExpressionKind): RegExpConstructor {
  return class NoRegex {
    constructor() {
      stop("U1005", `regular expressions are not allowed in a ${kind}`);
    }
  } as unknown as RegExpConstructor;
}

/** JSONata's own built-ins, to be called by the bounded versions (evaluated once; a function is a value). */
const originals = jsonata(
  "{ 'pad': $pad, 'join': $join, 'string': $string, 'replace': $replace, 'distinct': $distinct, 'sort': $sort, 'clone': $clone }",
)
  .evaluate({})
  .then((fns) => fns as Record<string, { implementation: (...args: unknown[]) => unknown }>);

type Focus = { environment?: Frame };

async function callOriginal(name: string, focus: Focus, args: unknown[]): Promise<unknown> {
  return (await originals)[name]!.implementation.apply(focus, args);
}

/**
 * Built-ins that could build a huge value, or do a huge amount of work, in a single step, with
 * their arguments checked first; each then does what JSONata's does. The others make a value no
 * larger than a small multiple of their input (each input is a step's result, so bounded), or
 * run a function the step count sees ($map, $filter, $reduce, $sort's comparator). `$append`
 * and ranges are held by the sequence limit; `$eval` is refused.
 */
function boundedBuiltins(
  kind: ExpressionKind,
): Record<string, { signature: string; run: (this: Focus, ...args: never[]) => unknown }> {
  return {
    // A width of 50,000,000 is 50 MB in one step; a pad string of many characters multiplies it.
    pad: {
      signature: "<s-ns?:s>",
      run(this: Focus, str: string | undefined, width: number, char?: string) {
        const w = Math.trunc(width);
        if (Math.abs(w) > MAX_PAD_WIDTH)
          stop("U1006", `$pad: a width of ${w}; a ${kind} may pad to at most ${MAX_PAD_WIDTH} characters`);
        // The padding is cut to its width anyway: a longer pad string would only be built to be cut.
        return callOriginal("pad", this, [str, width, char === undefined ? char : char.slice(0, Math.abs(w))]);
      },
    },
    // 10,000 items of 2,000,000 characters each, joined in one step.
    join: {
      signature: "<a<s>s?:s>",
      run(this: Focus, strs: string[] | undefined, separator?: string) {
        if (Array.isArray(strs)) {
          const length = strs.reduce((n, s) => n + String(s).length, 0) + Math.max(0, strs.length - 1) * (separator?.length ?? 0);
          if (length > MAX_VALUE_SIZE) tooLarge(length, kind);
        }
        return callOriginal("join", this, [strs, separator]);
      },
    },
    // A structure that shares its parts ({"a": $o, "b": $o}, nested) is small in memory and huge as text.
    string: {
      signature: "<x-b?:s>",
      // A default, as JSONata's own: $map passes as many arguments as a function declares (its `length`).
      run(this: Focus, arg: unknown, prettify = false) {
        const run = runOf(this.environment);
        if (run && arg !== null && typeof arg === "object") {
          const size = sizeOf(arg, run);
          const length = prettify ? size.chars + size.nodes * (2 * size.height + 1) : size.chars;
          if (length > MAX_VALUE_SIZE) tooLarge(length, kind);
          charge(run, Math.floor(length / WORK_PER_STEP));
        }
        return callOriginal("string", this, [arg, prettify]);
      },
    },
    // Each match of a short pattern replaced by a long string: length × replacement in one step.
    replace: {
      signature: "<s-(sf)(sf)n?:s>",
      run(this: Focus, str: string | undefined, pattern: unknown, replacement: unknown, limit?: number) {
        if (typeof str === "string" && typeof pattern === "string" && pattern !== "" && typeof replacement === "string") {
          let count = 0;
          for (
            let at = str.indexOf(pattern);
            at !== -1 && (limit === undefined || count < limit);
            at = str.indexOf(pattern, at + pattern.length)
          )
            count++;
          const length = str.length + count * Math.max(0, replacement.length - pattern.length);
          if (length > MAX_VALUE_SIZE) tooLarge(length, kind);
        }
        return callOriginal(
          "replace",
          this,
          limit === undefined ? [str, pattern, replacement] : [str, pattern, replacement, limit],
        );
      },
    },
    // Compares each item with every one kept: n² deep comparisons in one step.
    distinct: {
      signature: "<x:x>",
      run(this: Focus, arr: unknown) {
        const run = runOf(this.environment);
        if (run && Array.isArray(arr) && arr.length > 1) {
          const each = arr.reduce((n: number, item) => n + sizeOf(item, run).chars, 0) / arr.length;
          charge(run, Math.floor((arr.length * arr.length * Math.max(1, each)) / 2 / WORK_PER_STEP));
        }
        return callOriginal("distinct", this, [arr]);
      },
    },
    // JSONata's merge sort copies as it merges: about n² in one step (a comparator's calls are steps).
    sort: {
      signature: "<af?:a>",
      run(this: Focus, arr: unknown[] | undefined, comparator?: unknown) {
        const run = runOf(this.environment);
        if (run && Array.isArray(arr)) charge(run, Math.floor((arr.length * arr.length) / 2 / WORK_PER_STEP));
        return callOriginal("sort", this, comparator === undefined ? [arr] : [arr, comparator]);
      },
    },
    // The transform operator (`~> |…|{…}|`) copies its input through `$clone`, in one step: a copy
    // as large as the value, and CLONE_WORK times the work of walking it.
    clone: {
      signature: "<(oa)-:o>",
      run(this: Focus, arg: unknown) {
        const run = runOf(this.environment);
        if (run && arg !== null && typeof arg === "object") {
          const size = sizeOf(arg, run);
          charge(run, Math.floor((CLONE_WORK * size.chars) / WORK_PER_STEP));
          allocate(run, size.chars + size.nodes);
        }
        return callOriginal("clone", this, [arg]);
      },
    },
    eval: {
      signature: "<sx?:x>",
      run(_expression: string, _focus?: unknown) {
        return stop("U1005", `$eval is not allowed in a ${kind}`);
      },
    },
  };
}

/** JSONata's message with its code and where in the expression, for a person to find it. */
export function jsonataMessage(error: unknown): string {
  const e = (error ?? {}) as JsonataFailure;
  const message = typeof e.message === "string" && e.message ? e.message : String(error);
  const where = typeof e.position === "number" ? ` at character ${e.position}` : "";
  return e.code ? `${message} (${e.code}${where})` : message;
}

/** The code of a compile failure that is a refusal (refusedIn), not JSONata's parse error. */
const REFUSED = "expression_refused";

/** Compiles (or takes from the cache) an expression; throws JSONata's parse error, or one naming what it may not use. */
function compile(text: string, kind: ExpressionKind): Expression {
  const key = `${kind}\u0000${text}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const expression = jsonata(text, {
    timeout: TIMEOUT_MS,
    stack: MAX_DEPTH,
    sequence: MAX_SEQUENCE,
    RegexEngine: noRegex(kind),
  });
  const refused = refusedIn(expression.ast(), kind);
  if (refused) throw { code: REFUSED, message: refused } satisfies JsonataFailure;
  // One pair of hooks for every evaluation of this (shared) expression: the account lives on the call's root frame.
  expression.assign(
    Symbol.for("jsonata.__evaluate_entry") as unknown as string,
    (_node: unknown, _input: unknown, env: Frame) => {
      const root = env.base;
      if (!root) return;
      let run = runs.get(root);
      if (!run) {
        run = { kind, steps: 0, allocated: 0, sizes: new WeakMap(), last: new WeakMap() };
        runs.set(root, run);
      }
      charge(run, 1);
    },
  );
  expression.assign(
    Symbol.for("jsonata.__evaluate_exit") as unknown as string,
    (node: object, _input: unknown, env: Frame, result: unknown) => {
      const run = runOf(env);
      if (run) afterStep(node, result, run);
    },
  );
  for (const [name, fn] of Object.entries(boundedBuiltins(kind)))
    expression.registerFunction(name, fn.run as (...args: unknown[]) => unknown, fn.signature);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, expression);
  return expression;
}

/** Why an expression cannot be saved, for a person to fix it: what it may not use, or JSONata's parse error. */
export interface ExpressionProblem {
  /** A sentence without the kind's name in front ("the JSONata expression does not parse: …"). */
  message: string;
  /** JSONata's error code, when it is JSONata's. */
  jsonata?: string;
  position?: number;
}

/** Null when the expression compiles and uses nothing its kind may not; else what is wrong with it. */
export function expressionProblem(text: string, kind: ExpressionKind): ExpressionProblem | null {
  try {
    compile(text, kind);
    return null;
  } catch (error) {
    const failure = error as JsonataFailure | null;
    const position = typeof failure?.position === "number" ? { position: failure.position } : {};
    if (failure?.code === REFUSED) return { message: `${failure.message}.`, ...position };
    return {
      message: `the JSONata expression does not parse: ${jsonataMessage(error)}.`,
      ...(typeof failure?.code === "string" ? { jsonata: failure.code } : {}),
      ...position,
    };
  }
}

/**
 * Evaluates an expression within its bounds. Throws what JSONata (or a bound) threw: read it with
 * jsonataMessage. The expression should have passed expressionProblem when it was saved.
 */
export async function evaluateBounded(text: string, input: unknown, kind: ExpressionKind): Promise<unknown> {
  return compile(text, kind).evaluate(input);
}

/**
 * The filter as it is to be stored: trimmed, null when empty. Refuses (400 `flow_filter_invalid`)
 * one that is too long, does not parse (JSONata's message and position) or uses what a filter may
 * not (a regular expression, `$eval`: refusedIn).
 */
export function checkFilter(text: string | null | undefined): string | null {
  const filter = text?.trim() ?? "";
  if (filter === "") return null;
  if (filter.length > FILTER_MAX_LENGTH)
    throw new OrderlyError(
      `Filter: ${filter.length} characters; a filter may have at most ${FILTER_MAX_LENGTH}. Shorten it (a filter only needs to say which orders the flow takes).`,
      { errorClass: "validation", code: "flow_filter_invalid", details: { length: filter.length, max: FILTER_MAX_LENGTH } },
    );
  const problem = expressionProblem(filter, "filter");
  if (problem)
    throw new OrderlyError(`Filter: ${problem.message}`, {
      errorClass: "validation",
      code: "flow_filter_invalid",
      details: { jsonata: problem.jsonata, ...(problem.position === undefined ? {} : { position: problem.position }) },
    });
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
    return { match: truthy(await evaluateBounded(text, input, "filter")) };
  } catch (error) {
    return { error: jsonataMessage(error) };
  }
}

/**
 * A filter that failed to evaluate, as its transfer's (and first step's) error: the order is
 * neither taken nor dropped unseen; the failure is alerted, and a retry evaluates the flow's
 * filter as it is then (retryTransfer).
 */
export function filterFailure(message: string) {
  return {
    message: `The flow's filter could not decide on this order: ${message}. Nothing was sent for it. Fix the filter in the flow, then retry this transfer: the retry evaluates the flow's filter as it is then, and runs the flow only if the filter takes the order. Or leave it failed if the order is not for this flow.`,
    code: FILTER_FAILED,
    errorClass: "validation" as const,
  };
}

export const FILTER_FAILED = "flow_filter_failed";
export const FILTER_NOT_TAKEN = "flow_filter_not_taken";

/**
 * A retried transfer whose flow's filter, as it is now, leaves the order out: the transfer ends
 * completed with this as its reason, nothing sent. A later retry evaluates the filter again.
 */
export function filterNotTaken() {
  return {
    message:
      "Not taken by the flow's filter: on retry, the flow's filter (as it is now) leaves this order out, so nothing was sent for it. Retrying again evaluates the filter again.",
    code: FILTER_NOT_TAKEN,
    errorClass: "validation" as const,
  };
}
