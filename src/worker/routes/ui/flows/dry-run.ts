/**
 * Dry run: one recent order of the flow's source through the flow's steps, without sending
 * anything. For accounting actions it builds the document the target would book (lines, VAT case,
 * totals, cents difference or mismatch) with the same code the connectors use. For cancelOrder it
 * says which drafts made for the order would be deleted (or why nothing, or why the step would
 * fail), from the order's steps in the transfer log, with the connector's own reading of them.
 * A step with a mapping gets what its mapping makes of the order (shown, or its error), as when it
 * runs; nothing has run before it here, so its `previous` is empty.
 */
import { and, eq } from "drizzle-orm";
import { cancelPreview as billyCancelPreview } from "../../../../connectors/billy/billy.cancel-order";
import { cancelPreview as economicCancelPreview } from "../../../../connectors/economic/economic.cancel-order";
import { type LoggedStep, orderSteps } from "../../../../connectors/order-steps";
import { getConnector } from "../../../../connectors/registry";
import { database } from "../../../../db/client";
import { connections, type flows, transfers } from "../../../../db/schema";
import { latestSnapshot } from "../../../../db/snapshots";
import { transferLogRows } from "../../../../db/transfer-filters";
import { accountingSettingsSchema } from "../../../../domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../../../domain/accounting/build-document";
import type { AccountingDocument } from "../../../../domain/accounting/document";
import type { TransferInput } from "../../../../domain/order";
import { applyMapping } from "../../../../domain/step-mapping";

export interface DryRunStep {
  index: number;
  target: string;
  action: string;
  description: string;
  document?: AccountingDocument;
  note?: string;
  /** What the step's mapping made of the order, when it has one. */
  mapped?: TransferInput;
  /** Why the step's mapping failed on the order: the step would fail (`step_mapping_failed`). */
  mappingError?: string;
}

export interface DryRun {
  candidates: Array<{ id: string; orderId: string; orderNumber: string | null; stage: string; createdAt: number }>;
  chosen?: { transferId: string; input: TransferInput };
  steps: DryRunStep[];
}

const DOCUMENT_ACTIONS = new Set(["createInvoice", "createOrder", "createCreditNote"]);

/** cancelOrder per connector: what it would delete, read from the order's steps on the connection. */
const CANCEL_PREVIEWS: Record<string, (steps: readonly LoggedStep[]) => string> = {
  billy: billyCancelPreview,
  economic: economicCancelPreview,
};
/** The steps whose results cancelOrder removes or refuses. */
const CANCEL_INPUTS = ["createInvoice", "createOrder", "bookInvoice"];

export async function dryRun(env: Env, flow: typeof flows.$inferSelect, transferId?: string): Promise<DryRun> {
  const db = database(env);
  const latest = await transferLogRows(
    db,
    "transfers_tenant_time",
    and(eq(transfers.tenantId, flow.tenantId), eq(transfers.sourceConnectionId, flow.sourceConnectionId))!,
    20,
  );
  const candidates = latest.map(({ id, orderId, orderNumber, stage, createdAt }) => ({
    id,
    orderId,
    orderNumber,
    stage,
    createdAt,
  }));
  const pick = candidates.find((t) => t.id === transferId) ?? candidates[0];
  if (!pick) return { candidates, steps: [] };
  const input = (await latestSnapshot(env, flow.tenantId, pick.id, "canonical")) as TransferInput | undefined;
  if (!input) return { candidates, steps: [] };
  const targets = await db.select().from(connections).where(eq(connections.tenantId, flow.tenantId));
  const order = { tenantId: flow.tenantId, sourceConnectionId: flow.sourceConnectionId, orderId: pick.orderId };
  const steps = await Promise.all(
    flow.steps.map(async (step, index): Promise<DryRunStep> => {
      const row = targets.find((t) => t.id === step.target);
      const connector = row ? getConnector(row.connector) : undefined;
      const action = connector?.actions?.[step.action];
      const base = { index, target: row?.name ?? step.target, action: step.action, description: action?.description ?? "" };
      if (!action || !connector) return { ...base, note: "This step's connection or action no longer exists." };
      const mapping = step.mapping
        ? await applyMapping(
            step.mapping,
            input,
            Array.from({ length: index }, () => null),
          )
        : null;
      if (mapping && "error" in mapping)
        return { ...base, mappingError: mapping.error, note: "The step would fail on this order, before sending anything." };
      const stepInput = mapping ? mapping.input : input;
      const shown = mapping ? { ...base, mapped: mapping.input } : base;
      const cancel = step.action === "cancelOrder" ? CANCEL_PREVIEWS[connector.id] : undefined;
      if (cancel) return { ...shown, note: cancel(await orderSteps(env, order, step.target, CANCEL_INPUTS)) };
      const parsed = action.settings.safeParse(step.settings);
      const accounting = accountingSettingsSchema.safeParse(parsed.success ? parsed.data : step.settings);
      if (!DOCUMENT_ACTIONS.has(step.action) || !accounting.success) {
        return { ...shown, note: "No document to preview: this step acts on what the steps before it made." };
      }
      try {
        if (step.action === "createCreditNote") {
          if (!stepInput.refund) return { ...shown, note: "This order has no refund, so no credit note would be made." };
          return { ...shown, document: buildCreditNoteDocument(stepInput.order, stepInput.refund, accounting.data) };
        }
        return { ...shown, document: buildInvoiceDocument(stepInput.order, accounting.data) };
      } catch (error) {
        return { ...shown, note: `The document could not be built: ${(error as Error).message}` };
      }
    }),
  );
  return { candidates, chosen: { transferId: pick.id, input }, steps };
}
