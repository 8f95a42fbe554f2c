/** Expected lines, settings and an order that several case files share. */
import type { ExpectedLine, WooOrderSpec } from "../case-types";

/** A T-shirt (SKU TS-1) at 25 %. */
export const tshirt = (unitNet: string, quantity = 1): ExpectedLine => ({
  text: "T-shirt",
  quantity,
  unitNet,
  rate: 25,
  economic: "TS-1",
  billy: ["prod-ts1", "tr-dk-25"],
});

/** A mug (SKU MUG-1) at 25 %. */
export const mug = (unitNet: string, quantity = 1): ExpectedLine => ({
  text: "Mug",
  quantity,
  unitNet,
  rate: 25,
  economic: "MUG-1",
  billy: ["prod-mug", "tr-dk-25"],
});

/** A shipping line at 25 %; a free one is sent to Billy at 0.00 but not to e-conomic. */
export const shipping = (text: string, unitNet: string, sentToEconomic = true): ExpectedLine => ({
  text,
  quantity: 1,
  unitNet,
  rate: 25,
  economic: sentToEconomic ? "shipping" : null,
  billy: ["prod-shipping", "tr-dk-25"],
});

/** GLS shipping: 49.00 incl. VAT. */
export const gls = shipping("GLS", "39.20");

/** The merchant is registered for the One Stop Shop. */
export const OSS = { ossRegistered: true };

/** A line outside the domestic 25 %: its e-conomic product and its Billy product and tax rate. */
export const oss = (
  text: string,
  unitNet: string,
  rate: number,
  economic: string,
  billy: [string, string],
  quantity = 1,
): ExpectedLine => ({ text, quantity, unitNet, rate, economic, billy });

/** A German consumer's EUR order from WooCommerce: 2 mugs and DHL at 19 %. */
export const germanEuroOrder: WooOrderSpec = {
  shop: "woocommerce",
  currency: "EUR",
  pricesIncludeTax: true,
  buyer: "kim",
  lines: [
    {
      name: "Mug",
      sku: "MUG-1",
      quantity: 2,
      subtotal: "40.00",
      subtotalTax: "7.60",
      total: "40.00",
      totalTax: "7.60",
      rate: 19,
    },
  ],
  shipping: [{ name: "DHL", total: "5.00", totalTax: "0.95", rate: 19 }],
  totalTax: "8.55",
  total: "53.55",
};
