/** Small formatting helpers shared by pages. */

/** "1 March 2027" for the first day of a month given in ms (UTC). */
export function monthLabel(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

/** Pretty JSON for reading. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}
