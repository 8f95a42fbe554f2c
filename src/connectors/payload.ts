/**
 * What every source shares in reading a delivery: its body as text (decoded once), the codes of its
 * fields (currency, country), checking its payload against its schema with an error a merchant can
 * act on (the first five problems by path, "is missing" where the field is absent, and the issues as
 * details), and telling the shop's figures from Orderly's own mapping fault.
 */
import { z } from "zod";
import { OrderlyError } from "../domain/errors";
import type { IncomingDelivery } from "./contract";

// The BOM is kept (ignoreBOM: true), so the text is the body byte for byte.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as text when it is UTF-8, else null (kept as bytes in R2 instead). */
export function strictText(body: Uint8Array): string | null {
  try {
    return strictUtf8.decode(body);
  } catch {
    return null;
  }
}

/**
 * The text a source parses as JSON: the caller's decoding of the body when it made one
 * (IncomingDelivery.text: the webhook route decodes it once, for the source and for storing it),
 * else the source's own; without a leading BOM. Null when the body is not UTF-8.
 */
export function jsonText(delivery: IncomingDelivery): string | null {
  const text = delivery.text !== undefined ? delivery.text : strictText(delivery.body);
  return text?.charCodeAt(0) === 0xfeff ? text.slice(1) : (text ?? null);
}

/**
 * A country code as sent, upper-cased, when it is two ASCII letters; else none (the address goes
 * without a country). Checked before upper-casing: "ß" becomes "SS", and one astral character is two
 * UTF-16 units.
 */
export function countryCode(value: string | undefined): string | undefined {
  return value !== undefined && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : undefined;
}

/** A currency as sources send it: three ASCII letters ("ßAB" upper-cases to four, "𐀀AB" is no code). */
export const currencyCode = z.string().regex(/^[A-Za-z]{3}$/, { error: "must be a three-letter ISO 4217 code" });

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

/**
 * Runs a source's mapping, whose output is checked against the canonical schema: a failure there is
 * our bug, not the sender's, except for amounts past the safe-integer range. Each amount passed the
 * payload schema, but a sum (a line's tax lines, a discount's allocations, a line's subtotal less its
 * total) can still go beyond 2^53 minor units: the shop's figures, refused with `<prefix>_amount_out_of_range`.
 * `vendor` names the source in messages ("Shopify"), `prefix` its codes ("shopify").
 */
export function mappedOrRefused<T>(map: () => T, vendor: string, prefix: string): T {
  try {
    return map();
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    const where = error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ");
    if (error.issues.every(isOutOfRange)) {
      const fields = [...new Set(error.issues.map((i) => i.path.map(String).join(".")))].join(", ");
      throw invalidPayload(
        `The ${vendor} delivery's amounts add up beyond what Orderly can represent (${fields}).`,
        `${prefix}_amount_out_of_range`,
      );
    }
    throw new OrderlyError(`Orderly could not map this ${vendor} delivery to its canonical form.`, {
      errorClass: "internal",
      code: `${prefix}_mapping_failed`,
      internal: where,
      cause: error,
    });
  }
}

/**
 * An amount past the canonical schema's safe-integer bounds. Any other bound (a VAT rate over
 * 10,000 basis points) is the mapping's fault, not the shop's figures.
 */
function isOutOfRange(issue: z.core.$ZodIssue): boolean {
  return (
    (issue.code === "too_big" && issue.maximum === Number.MAX_SAFE_INTEGER) ||
    (issue.code === "too_small" && issue.minimum === Number.MIN_SAFE_INTEGER)
  );
}
