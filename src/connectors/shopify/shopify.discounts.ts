/**
 * The discounts of a Shopify order. Discount applications say what a discount was (a code, a manual
 * or automatic discount) and what it aimed at; the amounts sit on the lines it was allocated to.
 */
import type { Discount } from "../../domain/order";
import type { OrderEdits } from "./shopify.edits";
import type { ShopifyMoney } from "./shopify.money";
import type { ShopifyOrder } from "./shopify.payload";
import { compact, nonEmpty } from "./shopify.util";

type Allocation = NonNullable<ShopifyOrder["line_items"][number]["discount_allocations"]>[number];

/**
 * One discount per application, its amount summed from the allocations pointing at it (a code's
 * reported amount stands in). A code's amount exists in shop money only: for an order in
 * presentment money it is converted at the order's own ratio of the two totals. An edited order's
 * lines count what their remaining units still carry (`edits`, see shopify.edits.ts).
 */
export function discountsOf(order: ShopifyOrder, money: ShopifyMoney, edits?: OrderEdits): Discount[] {
  const applications = order.discount_applications ?? [];
  const codes = order.discount_codes ?? [];
  const codeAmount = (code: string | undefined): number | undefined => {
    const found = code === undefined ? undefined : codes.find((c) => c.code.toLowerCase() === code.toLowerCase());
    return found?.amount == null ? undefined : money.fromShopOnly(found.amount, "discount_codes.amount");
  };
  if (applications.length === 0) {
    // Payloads from before discount applications existed carry only the codes.
    return codes.map((c) =>
      compact({ code: c.code, amount: codeAmount(c.code) ?? 0, kind: c.type === "shipping" ? "shipping" : "order" }),
    );
  }
  const allocated = new Map<number, number>();
  const tally = (allocations: Allocation[], now: (amounts: number[]) => number[]) => {
    const amounts = now(allocations.map((a) => money.read(a.amount, a.amount_set, "discount_allocations.amount")));
    allocations.forEach((allocation, i) => {
      const index = allocation.discount_application_index;
      if (index == null) return;
      allocated.set(index, (allocated.get(index) ?? 0) + (amounts[i] ?? 0));
    });
  };
  for (const item of order.line_items) {
    tally(item.discount_allocations ?? [], (amounts) => edits?.allocations(item.id, amounts) ?? amounts);
  }
  for (const line of order.shipping_lines ?? []) tally(line.discount_allocations ?? [], (amounts) => amounts);
  return applications.map((app, index) => {
    const code = nonEmpty(app.code);
    return compact({
      code,
      title: nonEmpty(app.title) ?? nonEmpty(app.description),
      amount: allocated.get(index) ?? codeAmount(code) ?? 0,
      kind: discountKind(app.target_type, app.allocation_method, app.target_selection),
    });
  });
}

function discountKind(targetType?: string | null, allocation?: string | null, selection?: string | null): Discount["kind"] {
  if (targetType === "shipping_line") return "shipping";
  // Spread across every line of the order: an order discount. Anything aimed at lines is a line discount.
  if (allocation === "across" && (selection == null || selection === "all")) return "order";
  return "line";
}
