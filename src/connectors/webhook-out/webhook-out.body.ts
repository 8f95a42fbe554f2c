/**
 * The JSON a webhook-out step sends: an envelope naming the step's reference (the receiver's
 * idempotency key), the payload kind and the event, around either the canonical order as Orderly
 * keeps it (amounts in minor units of `currency`) or a pick list. The body is the same on every
 * attempt of a step, so a receiver can compare a repeated key's body with the first one's.
 */
import { OrderlyError } from "../../domain/errors";
import type { Address, CanonicalOrder } from "../../domain/order";
import { linesToPick, shipToAddress } from "../../domain/pick-list";
import type { PayloadKind } from "./webhook-out.settings";

/** Largest body sent (UTF-8 bytes): a warehouse endpoint is rarely built for more, and a bigger one is a mistake. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface PickListLine {
  sku: string | null;
  name: string;
  quantity: number;
}

export interface PickList {
  orderId: string;
  orderNumber: string;
  shipTo: (Address & { email?: string }) | null;
  shippingMethod: { title: string; code?: string } | null;
  lines: PickListLine[];
}

export type WebhookBody =
  | { type: "order"; reference: string; event?: string; order: CanonicalOrder }
  | { type: "pickList"; reference: string; event?: string; pickList: PickList };

/** Where the parcel goes (shipToAddress), with the buyer's e-mail for the carrier's notices. */
function shipTo(order: CanonicalOrder): (Address & { email?: string }) | null {
  const address = shipToAddress(order);
  const email = order.customer?.email;
  if (!address && !email) return null;
  // Carriers notify the recipient by e-mail; the address itself has no e-mail field.
  return { ...address, ...(email ? { email } : {}) };
}

/** The pick list of an order: one line per line with something to pick (a quantity above 0). */
export function pickListOf(order: CanonicalOrder): PickList {
  const lines = linesToPick(order).map((line) => ({ sku: line.sku ?? null, name: line.title, quantity: line.quantity }));
  if (lines.length === 0)
    throw new OrderlyError(
      `Order ${order.source.orderNumber} has no lines to pick (no line with a quantity above 0), so nothing was sent. If it was all refunded or removed, nothing needs packing; otherwise check the order in the shop.`,
      { errorClass: "validation", code: "webhook_out_nothing_to_pick", madeNothing: true },
    );
  const first = order.shipping[0];
  return {
    orderId: order.source.orderId,
    orderNumber: order.source.orderNumber,
    shipTo: shipTo(order),
    shippingMethod: first ? { title: first.title, ...(first.code ? { code: first.code } : {}) } : null,
    lines,
  };
}

/** The body of one step, and its exact text as sent and signed. */
export function webhookBody(
  order: CanonicalOrder,
  kind: PayloadKind,
  reference: string,
  event: string | undefined,
): { body: WebhookBody; text: string } {
  const head = { reference, ...(event ? { event } : {}) };
  const body: WebhookBody =
    kind === "pickList" ? { type: "pickList", ...head, pickList: pickListOf(order) } : { type: "order", ...head, order };
  const text = JSON.stringify(body);
  const bytes = new TextEncoder().encode(text).byteLength;
  if (bytes > MAX_BODY_BYTES)
    throw new OrderlyError(
      `Order ${order.source.orderNumber} is ${Math.ceil(bytes / 1024)} KB as JSON, more than the ${MAX_BODY_BYTES / 1024} KB an endpoint step sends, so nothing was sent.${kind === "order" ? " Send the pick list payload instead (the step's Payload setting), or pass the order to the warehouse by hand." : " Pass the order to the warehouse by hand."}`,
      { errorClass: "too_large", code: "webhook_out_body_too_large", madeNothing: true },
    );
  return { body, text };
}
