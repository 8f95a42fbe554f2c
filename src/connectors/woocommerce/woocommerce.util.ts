/** Small helpers for reading WooCommerce payloads, where "", null and absent all mean "not given". */

/** The trimmed string, or undefined for null, undefined and blank strings. */
export function nonEmpty(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** A copy without the keys whose value is undefined, so stored snapshots show only what was given. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const HAS_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A WooCommerce REST date as an ISO string with its zone. The REST API writes dates without a zone
 * ("2026-03-02T08:15:00"); the *_gmt fields are UTC, so "Z" is appended. A value that already
 * names its zone is kept as it is.
 */
export function gmtIso(value: string | null | undefined): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  const iso = HAS_ZONE.test(text) ? text : `${text}Z`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/** Milliseconds since the epoch of a WooCommerce REST date read as UTC (see gmtIso). */
export function gmtMs(value: string | null | undefined): number | undefined {
  const iso = gmtIso(value);
  return iso === undefined ? undefined : Date.parse(iso);
}

/** A REST date in site time as WooCommerce writes it: no zone. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;
/** The widest UTC offsets in use (UTC−12 to UTC+14); anything wider is not a shop's offset. */
const MAX_OFFSET_MS = 14 * 3_600_000;

/**
 * A site-time REST date with the shop's UTC offset written out ("2026-04-01T00:30:00+02:00"). The
 * REST API gives each date twice: in the site's time without a zone, and as UTC (*_gmt). Their
 * difference is the shop's offset at that moment, summer time included. Undefined when either is
 * missing or not in that form, or they differ by no whole minute within ±14 hours: the caller then
 * uses the UTC date.
 */
export function localIso(local: string | null | undefined, gmt: string | null | undefined): string | undefined {
  const localText = nonEmpty(local);
  const gmtText = nonEmpty(gmt);
  if (localText === undefined || gmtText === undefined || !ZONELESS.test(localText) || !ZONELESS.test(gmtText)) return undefined;
  const offset = Date.parse(`${localText}Z`) - Date.parse(`${gmtText}Z`);
  if (!Number.isFinite(offset) || offset % 60_000 !== 0 || Math.abs(offset) > MAX_OFFSET_MS) return undefined;
  const minutes = Math.abs(offset) / 60_000;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${localText}${offset < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  times: "×",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  euro: "€",
};

/**
 * Item names come from WordPress, which stores some characters as HTML entities (variation names
 * read "Mug &ndash; Blue"). An invoice line should say "Mug – Blue", so numeric entities and the
 * common named ones are decoded; anything else is left as written.
 */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith("#")) {
      const code = body[1] === "x" || body[1] === "X" ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}

/** A display text: trimmed, entities decoded, or undefined when blank. */
export function displayText(value: string | null | undefined): string | undefined {
  const text = nonEmpty(value);
  return text === undefined ? undefined : nonEmpty(decodeEntities(text));
}
