/**
 * WooCommerce as a source: signed order webhooks in (REST API v3 payloads). The webhook secret is
 * stored by the platform as the connection's webhook secret and handed to `verify`, so the
 * connector itself needs no credentials.
 */
import { z } from "zod";
import type { Connector } from "../contract";
import { parse } from "./woocommerce.parse";
import { setupSteps } from "./woocommerce.setup";
import { isPing, verify } from "./woocommerce.webhook";

export const woocommerceSettings = z.object({
  storeUrl: z
    .url({ protocol: /^https?$/, error: "must be the shop's web address, e.g. https://shop.example.com" })
    .trim()
    .optional()
    .describe(
      "The shop's web address (e.g. https://shop.example.com), as in WordPress admin under Settings → General → Site Address, with its folder if the shop is in one. WooCommerce names the sending site in every delivery; when this is set, a delivery from any other site (a staging copy of the shop keeps its webhooks and secret) is kept aside and alerted, not booked. Change it when the shop moves to a new address.",
    ),
});

export const woocommerceCredentials = z.object({});

/** The WooCommerce source connector. */
export const woocommerceConnector: Connector<typeof woocommerceSettings, typeof woocommerceCredentials> = {
  id: "woocommerce",
  name: "WooCommerce",
  category: "webshop",
  settings: woocommerceSettings,
  credentials: woocommerceCredentials,
  // WooCommerce never redelivers: a refused delivery would be a lost order (see SourceHandlers.retries).
  source: { retries: false, isPing, verify, parse, setupSteps },
};

export { VAT_NUMBER_META_KEYS } from "./woocommerce.order";
export { WOOCOMMERCE_TOPICS, type WooCommerceTopic } from "./woocommerce.parse";
export { foreignSite } from "./woocommerce.webhook";
