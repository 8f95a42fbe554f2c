import { describe, expect, it } from "vitest";
import { asOrderlyError, type ErrorClass, isRetryable, OrderlyError } from "../../src/domain/errors";

function errorOf(errorClass: ErrorClass): OrderlyError {
  return new OrderlyError("Something went wrong.", { errorClass, code: `test_${errorClass}` });
}

describe("OrderlyError", () => {
  it("retries rate limits, unavailability and timeouts", () => {
    for (const errorClass of ["rate_limited", "unavailable", "timeout"] as const) {
      expect(errorOf(errorClass).retryable, errorClass).toBe(true);
    }
  });

  it("does not retry errors that a retry cannot fix", () => {
    for (const errorClass of ["validation", "auth", "not_found", "conflict", "too_large", "internal"] as const) {
      expect(errorOf(errorClass).retryable, errorClass).toBe(false);
    }
  });

  it("maps each class to its HTTP status", () => {
    const statuses: Record<ErrorClass, number> = {
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
    for (const [errorClass, status] of Object.entries(statuses)) {
      expect(errorOf(errorClass as ErrorClass).status, errorClass).toBe(status);
    }
  });

  it("carries its options as data", () => {
    const cause = new Error("socket closed");
    const error = new OrderlyError("e-conomic is busy.", {
      errorClass: "rate_limited",
      code: "outbound_rate_limited",
      internal: "429 from /invoices/drafts",
      retryAfterSeconds: 7,
      details: { field: "x" },
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("OrderlyError");
    expect(error.message).toBe("e-conomic is busy.");
    expect(error.errorClass).toBe("rate_limited");
    expect(error.code).toBe("outbound_rate_limited");
    expect(error.internal).toBe("429 from /invoices/drafts");
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.details).toEqual({ field: "x" });
    expect(error.cause).toBe(cause);
  });

  it("has no cause when none was given", () => {
    expect(errorOf("validation").cause).toBeUndefined();
  });

  it("answers with the code and message as JSON, leaving out the internal detail", () => {
    const error = new OrderlyError("The order has no lines.", {
      errorClass: "validation",
      code: "order_empty",
      internal: "lines.length === 0 in secret place",
    });
    expect(error.toJSON()).toEqual({ error: { code: "order_empty", message: "The order has no lines." } });
    expect(JSON.stringify(error)).not.toContain("secret place");
  });

  it("includes details in its JSON when there are some", () => {
    const error = new OrderlyError("Totals differ.", {
      errorClass: "conflict",
      code: "totals_differ",
      details: { ours: 100, theirs: 99 },
    });
    expect(error.toJSON()).toEqual({
      error: { code: "totals_differ", message: "Totals differ.", details: { ours: 100, theirs: 99 } },
    });
  });
});

describe("asOrderlyError", () => {
  it("returns an OrderlyError as it is", () => {
    const error = errorOf("auth");
    expect(asOrderlyError(error)).toBe(error);
  });

  it("wraps an unknown Error as a retryable internal failure that keeps the cause", () => {
    const cause = new TypeError("x is undefined");
    const wrapped = asOrderlyError(cause);
    expect(wrapped).toBeInstanceOf(OrderlyError);
    expect(wrapped.retryable).toBe(true);
    expect(wrapped.code).toBe("internal_error");
    expect(wrapped.internal).toBe("x is undefined");
    expect(wrapped.cause).toBe(cause);
  });

  it("does not expose the wrapped error's message to the caller", () => {
    const wrapped = asOrderlyError(new Error("D1_ERROR: no such table: secrets"));
    expect(wrapped.message).not.toContain("D1_ERROR");
    expect(JSON.stringify(wrapped.toJSON())).not.toContain("D1_ERROR");
  });

  it("wraps thrown values that are not errors", () => {
    const wrapped = asOrderlyError("plain string");
    expect(wrapped.retryable).toBe(true);
    expect(wrapped.internal).toBe("plain string");
    expect(asOrderlyError(undefined).internal).toBe("undefined");
  });
});

describe("isRetryable", () => {
  it("follows the class of an OrderlyError", () => {
    expect(isRetryable(errorOf("timeout"))).toBe(true);
    expect(isRetryable(errorOf("validation"))).toBe(false);
  });

  it("retries anything that is not an OrderlyError", () => {
    expect(isRetryable(new Error("boom"))).toBe(true);
    expect(isRetryable(42)).toBe(true);
  });
});
