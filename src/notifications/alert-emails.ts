/**
 * The words of alert emails, as functions of what happened: the immediate email for the first
 * event of a window and the grouped email that closes it. Links are Orderly's pages under
 * PUBLIC_URL, read from the Worker's bindings (alerts are mostly written by the cron and queues,
 * which have no request to take a host from); without it the email says where to click.
 */

import { env } from "cloudflare:workers";
import { utcMinute } from "../domain/clock-text";
import { escapeHtml } from "../mail/templates";
import { publicUrl } from "../worker/config";
import type { AlertKind } from "./alert-throttle";

export interface AlertText {
  subject: string;
  text: string;
}

const MINUTE_MS = 60_000;
const REASON_LIMIT = 300;

/** The transfer log filtered to failed transfers, optionally those that failed on one target. */
export function failedTransfersPath(targetConnectionId?: string): string {
  return `/transfers?status=failed${targetConnectionId ? `&target=${encodeURIComponent(targetConnectionId)}` : ""}`;
}

export function transferPath(transferId: string): string {
  return `/transfers/${encodeURIComponent(transferId)}`;
}

/** A connection's page in the UI (its settings, its pause, its recent calls). */
export function connectionPath(connectionId: string): string {
  return `/connections/${encodeURIComponent(connectionId)}`;
}

/** A page of Orderly's UI as an email names it. */
export interface Page {
  path: string;
  /** The way there from Orderly's menu, for an email without a link. */
  menu: string;
}

/**
 * A page as an email writes it: a full link under PUBLIC_URL; without one, the way there from
 * Orderly's menu and the path to add to Orderly's address (a bare path reads as a broken link,
 * and no mail client opens it). `base` defaults to the Worker's PUBLIC_URL.
 */
export function pageLink(page: Page, base: string | null = publicUrl(env)): string {
  return base ? `${base}${page.path}` : `open Orderly → ${page.menu} (or add ${page.path} to Orderly's address)`;
}

/** `pageLink` in an HTML email: an `<a>` when there is a link to make. */
export function pageLinkHtml(page: Page, base: string | null = publicUrl(env)): string {
  const text = escapeHtml(pageLink(page, base));
  return base ? `<a href="${text}">${text}</a>` : text;
}

export function failedTransfersPage(targetConnectionId?: string): Page {
  return { path: failedTransfersPath(targetConnectionId), menu: 'Transfer log → status "failed"' };
}

/** The log is searched by order number; a transfer without one is found by its time in the log. */
export function transferPage(transferId: string, orderNumber: string | null): Page {
  return { path: transferPath(transferId), menu: orderNumber ? `Transfer log → search ${orderNumber}` : "Transfer log" };
}

/** The Flows page: its notice lists orders that came while no flow was on, runs their flows or dismisses them. */
export function flowsPage(): Page {
  return { path: "/flows", menu: "Flows" };
}

export function connectionPage(connectionId: string, name: string): Page {
  return { path: connectionPath(connectionId), menu: `Connections → ${name}` };
}

/** One kept delivery (named by its source and order, as the list shows it), or the list. */
export function deadLetterPage(id?: number, what?: string): Page {
  const list = "Kept, not processed";
  return { path: deadLetterPath(id), menu: id === undefined || !what ? list : `${list} → ${what}` };
}

/** `#1001: reason` for a grouped email; the reason is cut so ten samples stay readable. */
export function alertSample(orderNumber: string | null, reason: string): string {
  const short = reason.length > REASON_LIMIT ? `${reason.slice(0, REASON_LIMIT - 1)}…` : reason;
  return `${orderNumber ?? "(no order number)"}: ${short}`;
}

export interface FailureFacts {
  transferId: string;
  orderNumber: string | null;
  reason: string;
  targetId: string;
  targetName: string;
  windowMs: number;
}

export function failureAlertText(f: FailureFacts): AlertText {
  const order = f.orderNumber ? `order ${f.orderNumber}` : "an order";
  return {
    subject: `Transfer failed: ${order} to "${f.targetName}"`,
    text: [
      `Orderly could not transfer ${order} to "${f.targetName}", and will not try again by itself.`,
      `Reason: ${f.reason}`,
      `The transfer: ${pageLink(transferPage(f.transferId, f.orderNumber))}\nAll failed transfers on "${f.targetName}": ${pageLink(failedTransfersPage(f.targetId))}`,
      "Fix the cause, then retry from the transfer log. Nothing else is needed: a retry adopts anything the target already made.",
      `Further failures on "${f.targetName}" in the next ${minutes(f.windowMs)} minutes are collected into one email.`,
    ].join("\n\n"),
  };
}

export interface DifferencesFacts {
  transferId: string;
  orderNumber: string | null;
  targetName: string;
  /** What the target holds other than what Orderly would make now (a step's `outputs.differences`). */
  differences: string[];
  /** Booked as Orderly decided, for a person to check (a step's `outputs.checks`). */
  checks?: string[];
}

/** What a check asks for; today's only check is a refund's VAT spread over the order's rates. */
const CHECK_ADVICE =
  "Check the VAT of the credit note against the items refunded, and correct it in the accounting system if they were all of one rate. Nothing else is needed.";

/**
 * One email for both kinds of line, each under its own words: a difference is something to
 * correct (a booked invoice that changed, a totals mismatch booked anyway, a draft order gone), a
 * check is what Orderly booked as it decided, which a person should look at.
 */
export function differencesAlertText(f: DifferencesFacts): AlertText {
  const order = f.orderNumber ? `order ${f.orderNumber}` : "an order";
  const target = `"${f.targetName}"`;
  const checks = f.checks ?? [];
  const list = (lines: string[]) => lines.map((l) => `- ${l}`).join("\n");
  return {
    subject: f.differences.length > 0 ? `Differs from the order: ${order} on ${target}` : `To check: ${order} on ${target}`,
    text: join(
      f.differences.length > 0
        ? `What ${target} holds for ${order} is not what Orderly would make of the order now, or not what the customer paid or got back. Orderly does not change a booked document, nor one a person took over, so it left these as they are:`
        : "",
      list(f.differences),
      f.differences.length > 0
        ? `Correct them in ${target} where it matters, as each line says: a draft directly, a booked document only with another (a credit note for an invoice).`
        : "",
      checks.length > 0
        ? `To check: Orderly booked these for ${order} in ${target} as it decided, but a person should look at them:`
        : "",
      list(checks),
      checks.length > 0 ? CHECK_ADVICE : "",
      `The transfer: ${pageLink(transferPage(f.transferId, f.orderNumber))}`,
    ),
  };
}

export interface HeldEventFacts {
  sourceName: string;
  /** The shop's id of the order (Shopify's long number, WooCommerce's post id). */
  orderId: string;
  /** What people call the order (`#1001`), when the event carries it: order events do, refunds do not. */
  orderNumber: string | null;
  /** The refund the event is, for a refund event. */
  refundId: string | null;
  deliveryId: string;
  tries: number;
  reason: string;
}

/**
 * The held event as the email names it: by its order number where the event has one, else by the
 * shop's id of its order, which the shop's admin shows (in the order's address, for Shopify).
 */
export function heldEventLabel(f: Pick<HeldEventFacts, "orderId" | "orderNumber" | "refundId">): string {
  const order = f.orderNumber ? `order ${f.orderNumber}` : `the order with the shop's id ${f.orderId}`;
  return f.refundId ? `refund ${f.refundId} of ${order}` : order;
}

/** An event stored at its webhook that its order's processing has not taken after many tries. */
export function heldEventAlertText(f: HeldEventFacts): AlertText {
  const label = heldEventLabel(f);
  return {
    subject: `${label.charAt(0).toUpperCase()}${label.slice(1)} from "${f.sourceName}" is held on its way in`,
    text: [
      `Orderly stored the webhook for ${label} from "${f.sourceName}" (delivery ${f.deliveryId}) and answered it, but could not hand it on to the order's processing after ${f.tries} tries.`,
      `Last error: ${f.reason}`,
      "Nothing is lost: the event stays stored and Orderly keeps trying every minute. Later events of the same order wait behind it, so its transfers wait too. If this goes on, the Orderly operator should look at the error above.",
    ].join("\n\n"),
  };
}

export interface RefundGoneFacts {
  sourceName: string;
  orderId: string;
  refundIds: string[];
}

/** A refund Orderly credited that the shop no longer lists (deleted there). */
export function refundGoneAlertText(f: RefundGoneFacts): AlertText {
  const which = f.refundIds.length === 1 ? `refund ${f.refundIds[0]}` : `refunds ${f.refundIds.join(", ")}`;
  return {
    subject: `Order ${f.orderId} from "${f.sourceName}": ${which} deleted in the shop`,
    text: [
      `The newest version of order ${f.orderId} from "${f.sourceName}" no longer lists ${which}, which Orderly received and passed to the order's refund flows (a credit note, say).`,
      "Orderly does not undo what those flows made: if the refund was deleted in the shop by mistake, nothing needs doing; if it was really withdrawn, reverse its credit note by hand in the accounting system. The order's transfers show what each refund made.",
    ].join("\n\n"),
  };
}

/**
 * The "Kept, not processed" page of one dead letter, or the list without an id: where a kept
 * delivery's reason and body can be read in a browser (the API's twin needs a bearer token).
 */
export function deadLetterPath(id?: number): string {
  return id === undefined ? "/dead-letters" : `/dead-letters/${id}`;
}

export interface RefusedDeliveryFacts {
  sourceName: string;
  /** The order as the body names it (`#1001`), when it could be read. */
  order: string | null;
  deadLetterId: number;
  /** Why it was not taken, and what to do about it. */
  reason: string;
  windowMs: number;
}

/**
 * A signed delivery Orderly could not take, kept instead of booked (see hooks.ts). Any source:
 * WooCommerce never sends a delivery again, and Shopify stops once it is answered 200.
 */
export function refusedDeliveryAlertText(f: RefusedDeliveryFacts): AlertText {
  const what = f.order ? `order ${f.order}` : "a delivery";
  return {
    subject: `${f.order ? `Order ${f.order}` : "A delivery"} from "${f.sourceName}" was kept, not booked`,
    text: [
      `Orderly received ${what} from "${f.sourceName}", signed with the connection's secret, but could not take it as usual. It was answered as received and kept here instead of being lost: once answered, the shop will not send this delivery again.`,
      `Why, and what to do: ${f.reason}`,
      `The delivery, with its body as received: ${pageLink(deadLetterPage(f.deadLetterId, `${what} from "${f.sourceName}"`))}\nAll kept deliveries: ${pageLink(deadLetterPage())}`,
      `Further deliveries from "${f.sourceName}" kept in the next ${minutes(f.windowMs)} minutes are collected into one email.`,
    ].join("\n\n"),
  };
}

export interface TestOrdersFacts {
  sourceName: string;
  /** The test order as the shop names it (`#1001`), when known. */
  order: string | null;
  windowMs: number;
}

/** What to do when test orders are real sales: the same words in the first and the grouped email. */
const TEST_ORDERS_REAL =
  'If they are real sales (a payment provider left in test mode marks real orders as tests), turn on "Process test orders" (processTestOrders) in the connection\'s settings in Orderly, and take the payment provider out of test mode in Shopify. Orders ignored before that are not sent again by themselves: in Shopify admin, add a tag to each, which sends it again with the whole order; a refund ignored with its order is not sent again, so credit it by hand. If they are tests, nothing needs doing.';

/** A test order the source connection ignored (not booked, not kept): see refused-alerts.ts. */
export function testOrdersIgnoredAlertText(f: TestOrdersFacts): AlertText {
  return {
    subject: `Test orders from "${f.sourceName}" are being ignored`,
    text: [
      `Orderly received ${f.order ? `order ${f.order}` : "an order"} from "${f.sourceName}" marked as a test order (placed with Shopify's Bogus Gateway or a payment provider in test mode), and did not book it. Test orders and their refunds are ignored on this connection.`,
      TEST_ORDERS_REAL,
      `Further test orders from "${f.sourceName}" in the next ${minutes(f.windowMs)} minutes are collected into one email.`,
    ].join("\n\n"),
  };
}

export interface UnplannedFacts {
  sourceName: string;
  /** The order as the shop names it (`#1001`), or the shop's id of it. */
  order: string;
  windowMs: number;
}

/** What to do about orders no flow took: the same words in every email of the kind. */
const UNPLANNED_WHAT_TO_DO =
  'On the Flows page, dismiss the orders you booked by hand, switch a flow on for this source, then run the flows for the rest (tick them, or "Run all", which runs every listed order). Orderly does not run them by itself: an order booked by hand meanwhile would be booked twice.';

/** Orders from a source with no enabled flow at all (OrderDO.plan): recorded, not transferred. */
export function unplannedOrdersAlertText(f: UnplannedFacts): AlertText {
  return {
    subject: `Orders from "${f.sourceName}" are arriving, but no flow is switched on`,
    text: [
      `Order ${f.order} from "${f.sourceName}" reached Orderly, but no flow of "${f.sourceName}" is switched on, so it was not transferred. Orderly keeps a list of such orders.`,
      `${UNPLANNED_WHAT_TO_DO} ${pageLink(flowsPage())}`,
      `Further orders from "${f.sourceName}" with no flow on in the next ${minutes(f.windowMs)} minutes are collected into one email.`,
    ].join("\n\n"),
  };
}

export interface ParkedFacts {
  sourceName: string;
  /** The order as the shop names it, or the shop's id of it. */
  order: string;
  /** The database's error. */
  reason: string;
  windowMs: number;
}

/**
 * An order's history that its object could not write to the transfer log for a while (a parked
 * projection, see order-do.ts): the transfers go on, what Orderly shows of them is behind.
 */
export function parkedAlertText(f: ParkedFacts): AlertText {
  return {
    subject: `Order ${f.order} from "${f.sourceName}": its history in Orderly is behind`,
    text: [
      `Orderly could not write what happened to order ${f.order} from "${f.sourceName}" to its transfer log, after trying for a while, and now tries less often. The order's transfers go on as usual; only what Orderly shows of them is behind: the transfer log may show a finished transfer as still running, or miss one, and a transfer that failed may get no failure alert.`,
      `Why (the database's error): ${f.reason}`,
      "Nothing of the order is lost: its own record is complete, and Orderly keeps trying to write it to the log, at least once a day, until it is written. Until then, look at the order in the shop and in the accounting system if it matters now. If this goes on, the Orderly operator should look at the error above.",
      `Further orders from "${f.sourceName}" whose history falls behind in the next ${minutes(f.windowMs)} minutes are collected into one email.`,
    ].join("\n\n"),
  };
}

export interface SignatureFacts {
  sourceName: string;
  connectionId: string;
  /** The connector's id: what a refused delivery means depends on whether the source sends it again. */
  connector: string;
  connectorName: string;
  /** Why the check failed, as the source's `verify` says it. */
  reason: string;
  /** When the failure that opened the window came. */
  at: number;
  windowMs: number;
}

/** What a refused delivery means for the shop's orders, and how to get them back, per source. */
function signatureAdvice(f: SignatureFacts): string {
  const since = `${utcMinute(f.at)} UTC`;
  switch (f.connector) {
    case "woocommerce":
      return `If it came from the shop, its order did not reach Orderly, and will not by itself: WooCommerce does not send a failed delivery again, and after more than 5 failures in a row it disables the webhook. The usual cause is a webhook secret mistyped, or changed on one side. Enter the same secret in both places and save both: on the connection "${f.sourceName}" in Orderly, and in each of its webhooks in WordPress admin under WooCommerce → Settings → Advanced → Webhooks. If a webhook shows Disabled there, set it back to Active and save it. Then re-save in WooCommerce each order placed or changed since ${since} (open it and click Update), which sends it again.`;
    case "shopify":
      return `If it came from the shop, Shopify sends it again for about 4 hours (8 tries), then drops it. The usual cause is a webhook secret that differs from Shopify's signing key (mistyped, or the key changed). In Shopify admin, under Settings → Notifications → Webhooks, copy the key after "Your webhooks will be signed with" and save it as the webhook secret of the connection "${f.sourceName}" in Orderly: deliveries Shopify is still trying then arrive by themselves. An order whose delivery Shopify dropped is sent again when you add a tag to it in Shopify admin.`;
    default:
      return `If it came from the shop, its order did not reach Orderly. The usual cause is a webhook secret that differs between ${f.connectorName} and the connection "${f.sourceName}" in Orderly: enter the same secret in both places, then have ${f.connectorName} send the orders placed or changed since ${since} again.`;
  }
}

/** Said in the first and the grouped email: the failures are no proof the shop is at fault. */
const SIGNATURE_NOT_PROOF =
  "Anyone who knows this connection's webhook address can send a delivery that fails this way, so this is a hint, not proof: if the secrets match and the shop's orders keep arriving in the transfer log, someone else is sending to the address, and nothing needs doing.";

/** Deliveries to a source connection that fail their signature check (refused 401, nothing kept: see hooks.ts). */
export function signatureAlertText(f: SignatureFacts): AlertText {
  return {
    subject: `Deliveries to "${f.sourceName}" fail their signature check`,
    text: [
      `A delivery to the connection "${f.sourceName}" (${f.connectorName}) failed its signature check at ${utcMinute(f.at)} UTC. Orderly refused it (401) and kept nothing of it: a body without the connection's signature cannot be trusted to come from the shop.`,
      `Why: ${f.reason}`,
      signatureAdvice(f),
      SIGNATURE_NOT_PROOF,
      `The connection: ${pageLink(connectionPage(f.connectionId, f.sourceName))}`,
      `Further failed deliveries to "${f.sourceName}" in the next ${minutes(f.windowMs)} minutes are collected into one email.`,
    ].join("\n\n"),
  };
}

/**
 * A failed signature's line for the grouped email: its time, and how many more came in the
 * isolate's minute before it was recorded (signature-alerts.ts records one a minute).
 */
export function signatureSample(at: number, reason: string, uncounted?: { count: number; since: number }): string {
  const more = uncounted && uncounted.count > 0 ? ` (and ${uncounted.count} more since ${clock(uncounted.since)} UTC)` : "";
  return alertSample(`${utcMinute(at)} UTC${more}`, reason);
}

export interface FallbackFacts {
  kind: AlertKind | string;
  connectionId: string;
  /** The event's one line (`#1001: reason`), as the grouped email would list it. */
  sample: string;
  /** The transfer the event is about, when it has one. */
  transferId?: string;
}

const FALLBACK_SUBJECTS: Record<string, (connection: string) => string> = {
  failures: (c) => `A transfer failed on ${c}`,
  paused: (c) => `${c} is paused`,
  differences: (c) => `An order on ${c} needs correcting or checking`,
  held: (c) => `An order from ${c} is held on its way in`,
  refused: (c) => `A delivery from ${c} was kept, not booked`,
  "refund-gone": (c) => `A refund from ${c} was deleted in the shop`,
  "test-orders": (c) => `Test orders from ${c} are being ignored`,
  parked: (c) => `An order's history from ${c} is behind in Orderly`,
  signature: (c) => `Deliveries to ${c} fail their signature check`,
  unplanned: (c) => `Orders from ${c} are arriving but no flow is switched on`,
};

/**
 * The first email of a window when its usual words could not be made (the connection's name could
 * not be read): what happened and where to look, from the event alone, so the alert is still
 * stored and sent rather than lost. The connection is named by its id.
 */
export function fallbackAlertText(f: FallbackFacts): AlertText {
  const connection = `connection ${f.connectionId || "(unknown)"}`;
  const links = [
    f.transferId ? `The transfer: ${pageLink(transferPage(f.transferId, null))}` : "",
    f.kind === "failures" ? `All failed transfers on ${connection}: ${pageLink(failedTransfersPage(f.connectionId))}` : "",
    f.kind === "refused" ? `All kept deliveries: ${pageLink(deadLetterPage())}` : "",
    f.kind === "unplanned" ? `${UNPLANNED_WHAT_TO_DO} ${pageLink(flowsPage())}` : "",
    f.connectionId ? `The connection: ${pageLink(connectionPage(f.connectionId, connection))}` : "",
  ];
  return {
    subject: (FALLBACK_SUBJECTS[f.kind] ?? ((c: string) => `An alert about ${c}`))(connection),
    text: join(
      `What happened: ${f.sample}`,
      links.filter(Boolean).join("\n"),
      "This alert is shorter than usual: Orderly could not read all it needed to write it in full. Open the pages above for the details.",
    ),
  };
}

export interface GroupFacts {
  kind: AlertKind | string;
  connectionId: string;
  connectionName: string;
  count: number;
  samples: string[];
  windowStart: number;
  now: number;
}

/** The email closing a window: how many more happened since the last email, with samples. */
export function groupedAlertText(g: GroupFacts): AlertText {
  const span = `in the last ${minutes(g.now - g.windowStart)} minutes`;
  const since = `since ${clock(g.windowStart)} UTC`;
  const examples =
    g.samples.length > 0
      ? `${g.samples.length < g.count ? `The first ${g.samples.length}:` : "They are:"}\n${g.samples.map((s) => `- ${s}`).join("\n")}`
      : "";
  const name = `"${g.connectionName}"`;
  switch (g.kind) {
    case "failures":
      return {
        subject: `${g.count} more ${plural(g.count, "transfer")} failed on ${name} ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "transfer")} to ${name} failed ${since}, after the alert sent then.`,
          examples,
          `All failed transfers on ${name}: ${pageLink(failedTransfersPage(g.connectionId))}`,
          "Fix the cause, then retry them from the transfer log, one by one or all at once.",
        ),
      };
    case "paused":
      return {
        subject: `${name} was paused ${g.count} more ${plural(g.count, "time")} ${span}`,
        text: join(
          `Orderly paused sending to ${name} ${g.count} more ${plural(g.count, "time")} ${since}. Waiting steps resume by themselves when a test call succeeds.`,
          examples,
        ),
      };
    case "differences":
      return {
        subject: `${g.count} more ${plural(g.count, "order")} on ${name} to correct or check ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "order")} ${since}: what ${name} holds is not what Orderly would make now (Orderly leaves it as it is), or is booked as Orderly decided but a person should look at it.`,
          examples,
          `Correct a difference in ${name} where it matters, as its line says: a draft directly, a booked document only with another (a credit note for an invoice). For a credit note's VAT spread over several rates, check it against the items refunded and correct it if they were all of one rate; nothing else is needed.`,
        ),
      };
    case "held":
      return {
        subject: `${g.count} more ${plural(g.count, "order")} from ${name} held on the way in ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "event")} from ${name} could not be handed on to their orders' processing ${since}. They stay stored and are tried again every minute.`,
          examples,
        ),
      };
    case "refused":
      return {
        subject: `${g.count} more ${plural(g.count, "delivery", "deliveries")} from ${name} kept, not booked, ${span}`,
        text: join(
          `${g.count} more signed ${plural(g.count, "delivery", "deliveries")} from ${name} could not be booked ${since}. Each was answered as received (the shop does not send it again) and kept with its body.`,
          examples,
          `All kept deliveries: ${pageLink(deadLetterPage())}`,
        ),
      };
    case "test-orders":
      return {
        subject: `${g.count} more test ${plural(g.count, "order")} from ${name} ignored ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "delivery", "deliveries")} of test orders from ${name} were ignored, not booked, ${since}.`,
          examples,
          TEST_ORDERS_REAL,
        ),
      };
    case "parked":
      return {
        subject: `${g.count} more ${plural(g.count, "order")} from ${name} with ${plural(g.count, "its", "their")} history in Orderly behind ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "order")} from ${name} could not be written to the transfer log ${since}; Orderly keeps trying.`,
          examples,
        ),
      };
    case "signature":
      return {
        subject: `${g.count} more ${plural(g.count, "delivery", "deliveries")} to ${name} failed ${plural(g.count, "its", "their")} signature check ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "delivery", "deliveries")} to ${name} failed ${plural(g.count, "its", "their")} signature check ${since}; each was refused (401), and nothing of it kept. Orderly counts at most one a minute on each of its servers: the lines below say how many more came in between.`,
          examples,
          `${SIGNATURE_NOT_PROOF} What to do is in the first email: enter the same webhook secret in the shop and on the connection in Orderly.`,
          `The connection: ${pageLink(connectionPage(g.connectionId, g.connectionName))}`,
        ),
      };
    case "refund-gone":
      return {
        subject: `${g.count} more ${plural(g.count, "order")} from ${name} with a refund deleted in the shop ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "order")} from ${name} no longer ${plural(g.count, "lists", "list")} a refund that Orderly received and passed to the refund flows ${since}.`,
          examples,
          "Orderly does not undo what those flows made (a credit note, say): for a refund deleted by mistake nothing needs doing; for one really withdrawn, reverse its credit note by hand in the accounting system. Each order's transfers show what its refunds made.",
        ),
      };
    case "unplanned":
      return {
        subject: `${g.count} more ${plural(g.count, "order")} from ${name} arrived with no flow switched on ${span}`,
        text: join(
          `${g.count} more ${plural(g.count, "order")} from ${name} arrived ${since} while no flow of ${name} was switched on, so ${plural(g.count, "it was", "they were")} not transferred.`,
          examples,
          `${UNPLANNED_WHAT_TO_DO} ${pageLink(flowsPage())}`,
        ),
      };
    default:
      return { subject: `${g.count} more alerts about ${name} ${span}`, text: join(examples) };
  }
}

function minutes(ms: number): number {
  return Math.max(1, Math.round(ms / MINUTE_MS));
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 16);
}

function plural(n: number, word: string, words = `${word}s`): string {
  return n === 1 ? word : words;
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("\n\n");
}
