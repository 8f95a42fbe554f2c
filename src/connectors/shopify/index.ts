/**
 * Shopify as a source: signed order and refund webhooks in. The webhook signing key is stored by
 * the platform as the connection's webhook secret and handed to `verify`. The only credential is the
 * optional Admin API access token the reconciliation sweep reads orders with (shopify.reconcile.ts).
 */
import { z } from "zod";
import type { Connector } from "../contract";
import { parse } from "./shopify.parse";
import { setupSteps } from "./shopify.setup";
import { verify } from "./shopify.webhook";

export const shopifySettings = z.object({
  shopDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, {
      error: "must be the shop's myshopify.com domain, e.g. my-shop.myshopify.com",
    })
    .optional()
    .describe(
      "The shop's permanent myshopify.com domain (e.g. my-shop.myshopify.com), shown in Shopify admin under Settings → Domains. Used to label the connection, and the address the reconciliation sweep reads orders from.",
    ),
  processTestOrders: z
    .boolean()
    .default(false)
    .describe(
      "Book test orders (placed with Shopify's Bogus Gateway or a payment provider's test mode) like real sales. Off: test orders and their refunds are acknowledged and left out.",
    ),
  // Absent (every connection made before it) means off, as does false.
  reconcile: z
    .boolean()
    .optional()
    .describe(
      "Reconciliation sweep: every 15 minutes Orderly asks Shopify for the orders changed since its last look and takes any the webhooks did not bring (the same way a webhook is taken, so nothing is booked twice). Needs the shop domain above and an Admin API access token with read_orders.",
    ),
});

export const shopifyCredentials = z.object({
  adminAccessToken: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe(
      "Admin API access token of a custom app with the read_orders scope (sent as X-Shopify-Access-Token). Only the reconciliation sweep uses it.",
    ),
});

/** The Shopify source connector. */
export const shopifyConnector: Connector<typeof shopifySettings, typeof shopifyCredentials> = {
  id: "shopify",
  name: "Shopify",
  category: "webshop",
  settings: shopifySettings,
  credentials: shopifyCredentials,
  notCopied: {
    shopDomain: "it is the other shop's domain",
    reconcile: "the sweep needs this shop's own Admin API token first",
  },
  source: { verify, parse, setupSteps },
};

export { SHOPIFY_TOPICS, type ShopifyTopic } from "./shopify.parse";
