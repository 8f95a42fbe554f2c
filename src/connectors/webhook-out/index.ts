/**
 * Webhook out: a generic target that POSTs an approved order, or its pick list, as signed JSON to
 * any HTTPS endpoint (a warehouse, a 3PL, an ERP, an in-house system) that has no connector of its
 * own. What it sends and how a receiver verifies it: docs/webhook-out.md.
 */
import type { Connector } from "../contract";
import { sendOrder } from "./webhook-out.send-order";
import { webhookOutCredentials, webhookOutSettings } from "./webhook-out.settings";

/** The webhook-out connector: one action, `sendOrder`. */
export const webhookOutConnector: Connector<typeof webhookOutSettings, typeof webhookOutCredentials> = {
  id: "webhook-out",
  name: "Warehouse / HTTP endpoint (JSON)",
  category: "wms",
  settings: webhookOutSettings,
  credentials: webhookOutCredentials,
  notCopied: { headers: "extra headers often carry the other shop's keys" },
  // A receiver publishes no limits: a prudent pace, and every 429's Retry-After is honoured.
  limits: { ratePerSecond: 5, burst: 5, concurrency: 2 },
  actions: { sendOrder },
};

export { MAX_BODY_BYTES, type PickList, pickListOf, type WebhookBody, webhookBody } from "./webhook-out.body";
export { sendOrder } from "./webhook-out.send-order";
export {
  EXAMPLE_ENDPOINT,
  endpointProblem,
  headerProblem,
  type SendOrderSettings,
  sendOrderSettings,
  type WebhookOutCredentials,
  type WebhookOutSettings,
  webhookOutCredentials,
  webhookOutSettings,
} from "./webhook-out.settings";
export { EVENT_HEADER, SIGNATURE_HEADER, signatureHeaders, TIMESTAMP_HEADER } from "./webhook-out.sign";
