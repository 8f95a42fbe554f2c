/** What a warehouse needs of an order, the same for every connector that sends one: where it goes, what to pick. */
import type { Address, CanonicalOrder, Line } from "./order";

/** Where the parcel goes: the shipping address when it names a street or a person, else the billing address. */
export function shipToAddress(order: CanonicalOrder): Address | undefined {
  const shipping = order.shippingAddress;
  if (shipping && (shipping.line1 || shipping.name)) return shipping;
  return order.billingAddress ?? shipping;
}

/** The lines with something to pick (a quantity above 0: a line refunded or removed to 0 is not packed). */
export function linesToPick(order: CanonicalOrder): Line[] {
  return order.lines.filter((line) => line.quantity > 0);
}
