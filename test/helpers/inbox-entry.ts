import type { InboxAccept } from "../../src/durable/inbox-entry";

/** A minimal inbox entry for order `key` of a made-up connection (for shards whose hand-off is stubbed). */
export function inboxTestEntry(connection: string, key: string): InboxAccept {
  return {
    orderName: `${connection}:${key}`,
    deliveryKey: `d:${connection}:${key}`,
    eventKey: null,
    request: "{}",
    rawBody: null,
  };
}
