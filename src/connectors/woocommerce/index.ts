/**
 * WooCommerce as a source: signed order webhooks in (REST API v3 payloads). The webhook secret is
 * stored by the platform as the connection's webhook secret and handed to `verify`. The only
 * credentials are the optional REST API keys the reconciliation sweep reads orders with
 * (woocommerce.reconcile.ts).
 */
import { z } from "zod";
import type { Connector } from "../contract";
import { parse, route } from "./woocommerce.parse";
import { setupSteps } from "./woocommerce.setup";
import { statusStagesSetting } from "./woocommerce.statuses";
import { isPing, verify } from "./woocommerce.webhook";

export const woocommerceSettings = z.object({
  storeUrl: z
    .url({ protocol: /^https?$/, error: "must be the shop's web address, e.g. https://shop.example.com" })
    .trim()
    .optional()
    .describe(
      "The shop's web address (e.g. https://shop.example.com), as in WordPress admin under Settings → General → Site Address, with its folder if the shop is in one. WooCommerce names the sending site in every delivery; when this is set, a delivery from any other site (a staging copy of the shop keeps its webhooks and secret) is kept aside and alerted, not booked. Change it when the shop moves to a new address.",
    ),
  statusStages: statusStagesSetting
    .optional()
    .describe(
      "Your shop's own order statuses, and the stage each one means in Orderly: one per line as status = stage, e.g. shipped = fulfilled. Write the status as WooCommerce names it (its slug, with or without wc-); the stage is created, paid, fulfilled, completed or cancelled. Fulfilled and completed run the paid stage's flows first when the order has not reached it, but a payment is entered only once WooCommerce has recorded it. For cash on delivery, a status meaning completed counts as the cash collected, and one meaning fulfilled leaves the order where it is until then. A status not listed, or listed as paid, reads as paid once WooCommerce has recorded the payment, else as created. WooCommerce's own statuses (pending, processing, on-hold, completed, cancelled, refunded, failed) keep their meaning and cannot be listed.",
    ),
  // Absent (every connection made before it) means off, as does false.
  reconcile: z
    .boolean()
    .optional()
    .describe(
      "Reconciliation sweep: every 15 minutes Orderly asks the shop for the orders changed since its last look and takes any the webhooks did not bring (the same way a webhook is taken, so nothing is booked twice). WooCommerce never sends a failed webhook again, so this is how such an order still arrives. Needs the Store URL above (https) and a REST API key with Read access.",
    ),
});

export const woocommerceCredentials = z.object({
  consumerKey: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe(
      "REST API consumer key (ck_…) from WooCommerce → Settings → Advanced → REST API, with Read permission. Only the reconciliation sweep uses it.",
    ),
  consumerSecret: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe("The consumer secret (cs_…) shown with that key. Sent over HTTPS only (Basic auth)."),
});

/** The WooCommerce source connector. */
export const woocommerceConnector: Connector<typeof woocommerceSettings, typeof woocommerceCredentials> = {
  id: "woocommerce",
  name: "WooCommerce",
  category: "webshop",
  settings: woocommerceSettings,
  credentials: woocommerceCredentials,
  notCopied: {
    storeUrl: "it is the other shop's address (every delivery from this shop would be kept as from another site)",
    reconcile: "the sweep needs this shop's own REST API key first",
  },
  // WooCommerce never redelivers: a refused delivery would be a lost order (see SourceHandlers.retries).
  source: { retries: false, isPing, verify, parse, route, setupSteps },
};

export { VAT_NUMBER_META_KEYS } from "./woocommerce.order";
export { WOOCOMMERCE_TOPICS, type WooCommerceTopic } from "./woocommerce.parse";
export { foreignSite } from "./woocommerce.webhook";
