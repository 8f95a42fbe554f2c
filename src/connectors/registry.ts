/** Every connector Orderly knows, by id. Adding a connector is one import and one line here. */

import { billyConnector } from "./billy";
import type { Connector } from "./contract";
import { economicConnector } from "./economic";
import { filesConnector } from "./files";
import { postmarkConnector } from "./postmark";
import { resendConnector } from "./resend";
import { sandboxLedgerConnector } from "./sandbox-ledger";
import { shopifyConnector } from "./shopify";
import { webhookOutConnector } from "./webhook-out";
import { woocommerceConnector } from "./woocommerce";

const CONNECTORS: readonly Connector[] = [
  shopifyConnector,
  woocommerceConnector,
  economicConnector,
  billyConnector,
  sandboxLedgerConnector,
  resendConnector,
  postmarkConnector,
  filesConnector,
  webhookOutConnector,
];

const BY_ID = new Map(CONNECTORS.map((c) => [c.id, c]));

export function getConnector(id: string): Connector | undefined {
  return BY_ID.get(id);
}

export function listConnectors(): readonly Connector[] {
  return CONNECTORS;
}
