/**
 * Checking a source's webhook payload against its schema, with an error a merchant can act on: the
 * first five problems by path, "is missing" where the field is absent, and the issues as details.
 */
import type { z } from "zod";
import { OrderlyError } from "../domain/errors";

/** A 400-class error about a delivery's payload. */
export function invalidPayload(message: string, code: string, details?: unknown): OrderlyError {
  return new OrderlyError(message, { errorClass: "validation", code, details });
}

/**
 * The payload parsed by `schema`, or an error naming what is wrong.
 * `what`: how the message names the payload ("The Shopify orders/paid payload").
 */
export function validatedPayload<T extends z.ZodType>(schema: T, json: unknown, what: string, code: string): z.infer<T> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join(".");
    if (path === "") return `the body: ${issue.message}`;
    return valueAt(json, issue.path) === undefined ? `${path} is missing` : `${path}: ${issue.message}`;
  });
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : "";
  throw invalidPayload(`${what} is invalid: ${problems.join("; ")}${more}.`, code, result.error.issues.slice(0, 5));
}

function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
