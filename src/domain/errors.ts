/**
 * One error model for the whole system. Whether an error is worth retrying is decided where it is
 * born (mostly in a connector) and carried as data, so the queue consumer never guesses from text.
 */

export type ErrorClass =
  | "validation" // the request or data is wrong; retrying changes nothing
  | "auth" // credentials rejected; a person must fix the connection
  | "not_found"
  | "conflict"
  | "rate_limited" // 429: retry after the vendor's Retry-After
  | "unavailable" // 5xx or network failure
  | "timeout" // no answer in time: the outcome is unknown until the reference is looked up
  | "too_large"
  | "internal";

export interface OrderlyErrorOptions {
  /** Class of the error, which decides retrying and the HTTP status on our own API. */
  errorClass: ErrorClass;
  /** Short machine code, e.g. `signature_invalid`, `economic_validation`. */
  code: string;
  /** Detail for logs and snapshots; never returned to an anonymous caller. */
  internal?: string;
  retryAfterSeconds?: number;
  /** Extra data a person needs to act (vendor field errors, both totals ...). */
  details?: unknown;
  cause?: unknown;
  /**
   * A step's error known to come before it sent anything that could make something in a target
   * (its own checks, or reads only): the attempt does not count as having run when a retry with
   * the flow's current settings moves or replaces the step (OrderDO.stepMovedAway).
   */
  madeNothing?: boolean;
}

const RETRYABLE: ReadonlySet<ErrorClass> = new Set(["rate_limited", "unavailable", "timeout"]);

const STATUS: Record<ErrorClass, number> = {
  validation: 400,
  auth: 401,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  timeout: 504,
  too_large: 413,
  internal: 500,
};

export class OrderlyError extends Error {
  readonly errorClass: ErrorClass;
  readonly code: string;
  readonly internal: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly details: unknown;
  readonly madeNothing: boolean;

  constructor(message: string, options: OrderlyErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OrderlyError";
    this.errorClass = options.errorClass;
    this.code = options.code;
    this.internal = options.internal;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
    this.madeNothing = options.madeNothing === true;
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.errorClass);
  }

  get status(): number {
    return STATUS[this.errorClass];
  }

  /** The JSON body our API answers with; the message is written for a person. */
  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) },
    };
  }
}

/** Anything thrown that is not an OrderlyError is an internal failure and retryable. */
export function asOrderlyError(error: unknown): OrderlyError {
  if (error instanceof OrderlyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new OrderlyError("An internal error interrupted the step; it will be retried.", {
    errorClass: "unavailable",
    code: "internal_error",
    internal: message,
    cause: error,
  });
}

export function isRetryable(error: unknown): boolean {
  return asOrderlyError(error).retryable;
}
