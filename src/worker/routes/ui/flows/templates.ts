/** Flow templates for common system pairs: a template pre-fills the new-flow form, nothing more. */
import type { Stage } from "../../../../domain/stage";

export interface FlowTemplate {
  id: string;
  name: string;
  description: string;
  sourceConnector: string;
  stage: Stage;
  steps: Array<{ connector: string; action: string; settings: Record<string, unknown> }>;
}

export const FLOW_TEMPLATES: readonly FlowTemplate[] = [
  {
    id: "shopify-economic",
    name: "Shopify → e-conomic",
    description: "Paid Shopify orders become e-conomic invoices (customer matched or created), then booked.",
    sourceConnector: "shopify",
    stage: "paid",
    steps: [
      { connector: "economic", action: "createInvoice", settings: { invoiceState: "draft", customerMatch: "email" } },
      { connector: "economic", action: "bookInvoice", settings: {} },
    ],
  },
  {
    id: "woocommerce-billy",
    name: "WooCommerce → Billy",
    description: "Paid WooCommerce orders become approved Billy invoices with their payment registered.",
    sourceConnector: "woocommerce",
    stage: "paid",
    steps: [
      { connector: "billy", action: "createInvoice", settings: { invoiceState: "booked" } },
      { connector: "billy", action: "registerPayment", settings: {} },
    ],
  },
  {
    id: "shopify-ledger",
    name: "Shopify → sandbox ledger",
    description:
      "Paid Shopify orders become booked invoices in Orderly's built-in sandbox ledger: try a flow without any outside account.",
    sourceConnector: "shopify",
    stage: "paid",
    steps: [
      { connector: "sandbox-ledger", action: "createInvoice", settings: { invoiceState: "booked", customerMatch: "email" } },
    ],
  },
];

export function findTemplate(id: string | undefined): FlowTemplate | undefined {
  return FLOW_TEMPLATES.find((t) => t.id === id);
}
