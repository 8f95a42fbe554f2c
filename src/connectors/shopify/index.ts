/**
 * Shopify as a source: signed order and refund webhooks in. The webhook signing key is stored by
 * the platform as the connection's webhook secret and handed to `verify`, so the connector itself
 * needs no credentials.
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
      "The shop's permanent myshopify.com domain (e.g. my-shop.myshopify.com), shown in Shopify admin under Settings → Domains. Used to label the connection.",
    ),
  processTestOrders: z
    .boolean()
    .default(false)
    .describe(
      "Book test orders (placed with Shopify's Bogus Gateway or a payment provider's test mode) like real sales. Off: test orders and their refunds are acknowledged and left out.",
    ),
});

export const shopifyCredentials = z.object({});

/** The Shopify source connector. */
export const shopifyConnector: Connector<typeof shopifySettings, typeof shopifyCredentials> = {
  id: "shopify",
  name: "Shopify",
  category: "webshop",
  settings: shopifySettings,
  credentials: shopifyCredentials,
  source: { verify, parse, setupSteps },
};

export { SHOPIFY_TOPICS, type ShopifyTopic } from "./shopify.parse";
