/**
 * Shopify as a source: signed order and refund webhooks in. The webhook signing key is stored by
 * the platform as the connection's webhook secret and handed to `verify`. The only credentials are the
 * optional ones the reconciliation sweep reads orders with (shopify.reconcile.ts): a Dev Dashboard
 * app's client ID and secret, or a legacy custom app's Admin API access token.
 */
import { z } from "zod";
import type { Connector } from "../contract";
import { parse, retryKey, route } from "./shopify.parse";
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
      "Reconciliation sweep: every 15 minutes Orderly asks Shopify for the orders changed since its last look and takes any the webhooks did not bring (the same way a webhook is taken, so nothing is booked twice). Needs the shop domain above and an app's credentials with read_orders (below). When switched on again after being off, or when the credentials change, it starts from now.",
    ),
});

export const shopifyCredentials = z.object({
  clientId: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe(
      "Client ID of your own app from Shopify's Dev Dashboard (Apps → your app → Settings), installed on this shop with the read_orders scope. Orderly exchanges it with the client secret for a short-lived token (client credentials grant). Only the reconciliation sweep uses it.",
    ),
  clientSecret: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe("The client secret shown beside that client ID in the Dev Dashboard."),
  adminAccessToken: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe(
      "Instead of a client ID and secret: the Admin API access token (shpat_…) of a custom app made in the Shopify admin before 2026, with the read_orders scope. Only the reconciliation sweep uses it.",
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
    reconcile: "the sweep needs this shop's own app credentials first",
  },
  source: { verify, parse, route, retryKey, setupSteps },
};

export { SHOPIFY_TOPICS, type ShopifyTopic } from "./shopify.parse";
