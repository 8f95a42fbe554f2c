/** Small helpers for reading Shopify payloads, where "", null and absent all mean "not given". */

/** The trimmed string, or undefined for null, undefined and blank strings. */
export function nonEmpty(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** A copy without the keys whose value is undefined, so stored snapshots show only what was given. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Milliseconds since the epoch of an ISO timestamp, or undefined when absent or unreadable. */
export function epochMs(value: string | null | undefined): number | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
