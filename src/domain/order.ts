/**
 * The canonical, system-neutral order that every source parses into and every target maps from.
 * Amounts are integer minor units in the order's currency; VAT rates are basis points (25% = 2500).
 */
import { z } from "zod";
import { stageSchema } from "./stage";

const minor = z.number().int().safe();
const rateBp = z.number().int().min(0).max(10_000);

export const addressSchema = z.object({
  name: z.string().optional(),
  company: z.string().optional(),
  line1: z.string().optional(),
  line2: z.string().optional(),
  postcode: z.string().optional(),
  city: z.string().optional(),
  region: z.string().optional(),
  /** ISO 3166-1 alpha-2. */
  country: z.string().length(2).optional(),
  phone: z.string().optional(),
});
export type Address = z.infer<typeof addressSchema>;

export const customerSchema = z.object({
  sourceId: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  company: z.string().optional(),
  /** EU VAT number (with country prefix) or national company number (CVR ...). */
  vatNumber: z.string().optional(),
  /** EAN/GLN for public-sector e-invoicing. */
  ean: z.string().optional(),
});
export type Customer = z.infer<typeof customerSchema>;

/** One order line. `unitPrice` is as the source gives it: gross when `pricesIncludeTax`, else net. */
export const lineSchema = z.object({
  id: z.string(),
  sku: z.string().optional(),
  title: z.string(),
  quantity: z.number().int(),
  unitPrice: minor,
  /** Discount allocated to this line, in total (not per unit), same tax basis as the price. */
  discount: minor,
  /** VAT on the line after discounts, as the source computed it. */
  tax: minor,
  taxRateBp: rateBp.optional(),
  productId: z.string().optional(),
  variantId: z.string().optional(),
  /** A gift card sold on this line (a voucher: VAT is due when it is redeemed, not sold). */
  giftCard: z.boolean().optional(),
});
export type Line = z.infer<typeof lineSchema>;

/** A fee charged on the order (handling, payment surcharge ...); same tax basis as line prices. */
export const feeSchema = z.object({
  title: z.string(),
  amount: minor,
  tax: minor,
  taxRateBp: rateBp.optional(),
  /**
   * Import duties passed on (Shopify's): the destination's customs, not a sale. Booked without VAT
   * like a rounding line, and left out when money refunded without lines is spread over the
   * order's VAT rates. Absent on other fees, so their JSON (and an order's material key) is as before.
   */
  duties: z.literal(true).optional(),
});
export type Fee = z.infer<typeof feeSchema>;

export const shippingSchema = z.object({
  title: z.string(),
  code: z.string().optional(),
  price: minor,
  discount: minor,
  tax: minor,
  taxRateBp: rateBp.optional(),
});
export type Shipping = z.infer<typeof shippingSchema>;

export const discountSchema = z.object({
  code: z.string().optional(),
  title: z.string().optional(),
  /** Amount the discount took off the order, as the source reports it. */
  amount: minor,
  kind: z.enum(["line", "order", "shipping"]),
});
export type Discount = z.infer<typeof discountSchema>;

export const paymentSchema = z.object({
  /** Gateway id as the source names it: "shopify_payments", "quickpay", "stripe", "gift_card". */
  gateway: z.string(),
  /** What the customer chose, as shown to them ("Card", "MobilePay"), when the source says. */
  method: z.string().optional(),
  transactionId: z.string().optional(),
  amount: minor.optional(),
  status: z.enum(["pending", "authorized", "paid", "partially_paid", "refunded", "partially_refunded", "voided"]).optional(),
});
export type Payment = z.infer<typeof paymentSchema>;

export const orderSchema = z.object({
  source: z.object({
    connector: z.string(),
    orderId: z.string(),
    /** What people call the order: "#1001". */
    orderNumber: z.string(),
    /** Monotonic version of this order at its source (ms since epoch of its last change). */
    version: z.number().int(),
    createdAt: z.string(),
  }),
  stage: stageSchema,
  currency: z.string().length(3),
  pricesIncludeTax: z.boolean(),
  customer: customerSchema.nullable(),
  billingAddress: addressSchema.optional(),
  shippingAddress: addressSchema.optional(),
  lines: z.array(lineSchema),
  shipping: z.array(shippingSchema),
  /** Fees; optional so orders stored before fees existed still parse. */
  fees: z.array(feeSchema).optional(),
  discounts: z.array(discountSchema),
  payments: z.array(paymentSchema),
  totals: z.object({
    /** What the customer pays, VAT included. */
    total: minor,
    tax: minor,
    discounts: minor,
    shipping: minor,
  }),
  /**
   * When the customer paid in another currency than the shop keeps its books in: the shop's
   * currency and how many shop units one order unit was worth, as the source reported it.
   */
  exchange: z
    .object({
      shopCurrency: z.string().length(3),
      /** Decimal string, e.g. "7.4561": shop currency per one unit of the order currency. */
      rate: z.string().regex(/^\d+(\.\d+)?$/),
    })
    .optional(),
  /** Source-specific states kept for filters and settings ("paid", "partially_fulfilled" ...). */
  financialStatus: z.string().optional(),
  fulfillmentStatus: z.string().optional(),
  cancelledAt: z.string().optional(),
  note: z.string().optional(),
  tags: z.array(z.string()).optional(),
  /**
   * Where the order was placed, as the source names it, for filters: Shopify's `source_name`
   * ("web", "pos", "shopify_draft_order", an app's id), WooCommerce's `created_via` ("checkout",
   * "admin", "rest-api", a plugin's name).
   */
  channel: z.string().optional(),
  /**
   * The refunds the webshop lists on the order, where its payload lists them all (WooCommerce):
   * one that was credited and is gone from a newer version was deleted in the shop.
   */
  refundIds: z.array(z.string()).optional(),
});
export type CanonicalOrder = z.infer<typeof orderSchema>;

export const refundSchema = z
  .object({
    source: z.object({
      connector: z.string(),
      orderId: z.string(),
      refundId: z.string(),
      createdAt: z.string(),
    }),
    currency: z.string().length(3),
    lines: z.array(
      z.object({
        lineId: z.string(),
        sku: z.string().optional(),
        quantity: z.number().int(),
        /** Net refunded for the line and its VAT. */
        subtotal: minor,
        tax: minor,
        restock: z.boolean(),
      }),
    ),
    /** Shipping refunded, on the order's tax basis (net when the order's prices exclude tax). */
    shipping: minor,
    /** VAT of the refunded shipping where the webshop states it (Shopify's tax_amount). */
    shippingTax: minor.optional(),
    adjustments: minor,
    /**
     * Import duties given back (Shopify's refund `duties`): without VAT, as the order charged them.
     * Absent when none, so refunds without duties keep their JSON.
     */
    duties: minor.optional(),
    /** Money returned to the customer (positive). */
    total: minor,
    /**
     * The money paid back per gateway (positive, in the refund's currency, adding up to `total`) when
     * the webshop says it. Optional: refunds stored by earlier releases, and webshops that name no
     * gateway on a refund, go back through the order's one gateway (domain/payment.ts).
     */
    payments: z
      .array(z.object({ gateway: z.string().min(1), amount: minor.positive() }))
      .min(1)
      .optional(),
    note: z.string().optional(),
  })
  .refine((r) => r.payments === undefined || r.payments.reduce((sum, p) => sum + p.amount, 0) === r.total, {
    error: "the refund's payments per gateway must add up to its total",
    path: ["payments"],
  });
export type CanonicalRefund = z.infer<typeof refundSchema>;

/** What a flow's steps receive: the order as of the transfer, and the refund for refund stages. */
export interface TransferInput {
  order: CanonicalOrder;
  refund?: CanonicalRefund;
}
