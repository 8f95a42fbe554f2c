/**
 * Which Orderly stage a WooCommerce order status means: WooCommerce's own statuses are fixed here,
 * and a connection may add its shop's own (statuses plugins add, such as "shipped" or
 * "awaiting-shipment") with the `statusStages` setting.
 */
import { z } from "zod";
import type { Stage } from "../../domain/stage";

/** Core statuses and the stage each one means. */
export const STAGE_BY_STATUS: Readonly<Record<string, Stage>> = {
  pending: "created",
  "on-hold": "created",
  // A failed payment leaves the order open: the customer may pay again.
  failed: "created",
  // Cash on delivery is the exception: see awaitingCash.
  processing: "paid",
  // Completed implies paid (and shipped); the stage machine catches up the stages in between.
  completed: "completed",
  cancelled: "cancelled",
  trash: "cancelled",
  // A full refund is a status, not a refund with lines: the order was paid, and each entry of
  // `refunds` becomes its own refunded event. One never paid is cancelled: see refundedUnpaid.
  refunded: "paid",
};

/**
 * The stage one of WooCommerce's own statuses means, or undefined for any other status. An own-key
 * lookup: a plugin status named like an object's property ("constructor") is no core status.
 */
export function coreStage(status: string): Stage | undefined {
  return Object.hasOwn(STAGE_BY_STATUS, status) ? STAGE_BY_STATUS[status] : undefined;
}

/**
 * Statuses a connection cannot map: WooCommerce's own keep their meaning, as the safety rules read
 * them by name (refunded never paid, cash on delivery completed), and a checkout draft is ignored
 * before any mapping (it is no order yet).
 */
const FIXED_STATUSES: ReadonlySet<string> = new Set([...Object.keys(STAGE_BY_STATUS), "checkout-draft"]);

/**
 * The stages a shop's status can mean. Not refunded: each refund is read from the order's
 * `refunds`, whatever its status, and an order event at refunded would carry no refund to credit.
 */
export const STATUS_STAGES = ["created", "paid", "fulfilled", "completed", "cancelled"] as const satisfies readonly Stage[];
export type StatusStage = (typeof STATUS_STAGES)[number];

/**
 * A status slug as WooCommerce keeps it after the prefix: what WordPress's sanitize_key leaves
 * (lowercase letters, digits, dashes and underscores), at most 20 characters.
 */
const SLUG = /^[a-z0-9_-]{1,20}$/;
const STAGE_LIST = `${STATUS_STAGES.slice(0, -1).join(", ")} or ${STATUS_STAGES.at(-1)}`;

/** The status without the `wc-` prefix WooCommerce uses internally. */
export function withoutPrefix(status: string): string {
  return status.replace(/^wc-/, "");
}

function isStatusStage(value: unknown): value is StatusStage {
  return (STATUS_STAGES as readonly unknown[]).includes(value);
}

/** Why one entry of the map cannot be taken, or undefined when it can. */
function entryProblem(key: string, value: string): string | undefined {
  const slug = withoutPrefix(key);
  if (!SLUG.test(slug)) {
    return `"${key}" is not a WooCommerce order status slug: write the status as WooCommerce names it, in lowercase letters, digits, dashes and underscores, at most 20 characters (with or without the wc- prefix), e.g. shipped or wc-shipped.`;
  }
  if (FIXED_STATUSES.has(slug)) {
    return slug === "checkout-draft"
      ? `"${key}" is a checkout that was never placed; Orderly ignores it, so it cannot be mapped. List only your shop's own statuses.`
      : `"${key}" is one of WooCommerce's own statuses, which Orderly already reads as ${coreStage(slug)}; it cannot be changed here. List only your shop's own statuses, e.g. shipped = fulfilled.`;
  }
  if (value === "refunded") {
    return `"${key} = refunded": a status cannot mean refunded, as Orderly reads each refund from the order's refunds whatever its status. Use ${STAGE_LIST}.`;
  }
  if (!isStatusStage(value)) return `"${key} = ${value}": "${value}" is not an Orderly stage; use ${STAGE_LIST}.`;
  return undefined;
}

/**
 * The connection setting: status slug → stage, checked entry by entry so that each refusal names
 * its entry, and read back without the `wc-` prefix.
 */
export const statusStagesSetting = z
  .record(z.string(), z.string())
  .superRefine((map, ctx) => {
    const seen = new Map<string, string>();
    for (const [key, value] of Object.entries(map)) {
      const problem = entryProblem(key, value);
      if (problem) {
        ctx.addIssue({ code: "custom", path: [key], message: problem, input: value });
        continue;
      }
      const slug = withoutPrefix(key);
      const other = seen.get(slug);
      if (other !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `"${key}" is the same status as "${other}" (the wc- prefix aside); keep one of them.`,
          input: value,
        });
      }
      seen.set(slug, key);
    }
  })
  .transform((map) => Object.fromEntries(Object.entries(map).map(([key, value]) => [withoutPrefix(key), value as StatusStage])));

/** A connection's map as parse receives it: validated, keys without the prefix. */
export type StatusStages = Readonly<Record<string, StatusStage>>;

/**
 * The stage the shop's map gives a status (without its prefix), if any. WooCommerce's own statuses
 * are never looked up, and a value that is not a mappable stage is skipped, so a map that did not
 * come through the setting's schema (a parser called on its own) cannot undo the built-in rules.
 */
export function shopStage(statusStages: StatusStages, status: string): StatusStage | undefined {
  if (FIXED_STATUSES.has(status)) return undefined;
  const own = (key: string) => (Object.hasOwn(statusStages, key) ? statusStages[key] : undefined);
  const stage = own(status) ?? own(`wc-${status}`);
  return isStatusStage(stage) ? stage : undefined;
}
