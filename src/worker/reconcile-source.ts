/**
 * What a source connector gives the reconciliation sweep (src/worker/reconcile.ts): one page of
 * the shop's orders changed in a window, each as a delivery the connector's own `parse` reads
 * exactly as it reads a webhook, and where the next page starts.
 */
import type { IncomingDelivery } from "../connectors/contract";
import type { HttpClient } from "../connectors/http";
import { OrderlyError } from "../domain/errors";

/** One order the shop listed, as a delivery for takeDelivery (routes/hooks.ts). */
export interface FoundOrder {
  /** The shop's id of the order, as `parse` reads it (it names the order's Durable Object). */
  orderId: string;
  /** The order as the merchant knows it (`#1001`). */
  label: string;
  /** Its last change at the shop (ms): how far the window has been read, and the version `parse` gives the order. */
  changedAt: number;
  delivery: IncomingDelivery;
  /**
   * Refunds the order lists that its own delivery does not credit (Shopify: each comes by its own
   * refunds/create webhook), each as that webhook's delivery; taken after the order's.
   */
  refunds?: FoundRefund[];
}

/** A refund listed on an order, as the delivery its own webhook would have been. */
export interface FoundRefund {
  refundId: string;
  /** The version `parse` gives the refund event (its creation time, ms). */
  version: number;
  delivery: IncomingDelivery;
}

/** The orders changed after `from` and at or before `to` (ms), oldest first. */
export interface SweepWindow {
  from: number;
  to: number;
}

export interface OrdersPage {
  orders: FoundOrder[];
  /** Where the next page of the same window starts (JSON, kept between runs); null: the window is read. */
  next: unknown;
  /** The shop's call limit is nearly used up: read no more pages this run. */
  slowDown?: boolean;
}

/** A source connection that can be swept, or why it cannot. */
export type SweepAccess =
  | { ok: true; read(http: HttpClient, window: SweepWindow, next: unknown): Promise<OrdersPage> }
  | { ok: false; code: string; reason: string };

export interface SweepSource {
  /** The vendor as error messages name it. */
  vendor: string;
  /** Header names whose values never reach a log. */
  redact: string[];
  /** What to tell the merchant when the shop refuses the credentials (401/403). */
  refused: string;
  /** Orders on a full page: what one page may cost a run (an object call and a take each). */
  pageSize: number;
  access(settings: Readonly<Record<string, unknown>>, credentials: Readonly<Record<string, unknown>>): SweepAccess;
}

/**
 * fetch for the sweep's HTTP client: a successful answer's body comes back as its exact text (a
 * JSON string literal the client parses back), so a reader parses it itself: Shopify's int64 order
 * ids lose digits in a plain JSON.parse. Other answers pass as they are, for the client's error
 * classification.
 */
export const textFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (!response.ok) return response;
  const headers = new Headers(response.headers);
  // The body is re-encoded: its length and encoding are no longer the shop's.
  headers.delete("content-length");
  headers.delete("content-encoding");
  return new Response(JSON.stringify(await response.text()), { status: response.status, headers });
};

/** The body a sweep's HTTP client answered through textFetch. */
export function answeredText(body: unknown, vendor: string): string {
  if (typeof body === "string") return body;
  throw new OrderlyError(`${vendor} answered with an empty body where a list of orders was expected.`, {
    errorClass: "unavailable",
    code: "reconcile_empty_answer",
  });
}
