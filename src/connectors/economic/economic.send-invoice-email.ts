/**
 * `sendInvoiceEmail`: e-conomic's API does not send sales documents by email (its documentation
 * says so and points to fetching the PDF), so the booked invoice's PDF is fetched and sent with
 * Orderly's own mail through the step's mail connection (Resend or Postmark). Without one the
 * step fails before the PDF is fetched, except in local development, where the dev outbox keeps
 * the email: deployed, the dev outbox delivers nothing, and the step would complete with the
 * customer never getting the invoice. The operator's system sender is not used either: it is for
 * Orderly's own emails, not a merchant's mail to its customers. The step's reference is
 * the idempotency key: a re-run finds the email in Orderly's outbox and sends nothing again. A
 * re-run that finds this step's own earlier success for the same booked invoice (`prior`) sends
 * nothing either, even when the outbox no longer has the email (deleted by a release before the
 * outbox kept a record of sent ones): the customer has that invoice already. Nor does one that
 * finds the same booked invoice e-mailed by a step of the order's other transfers on this
 * connection (the step moved from the paid flow to the fulfilled one, or in both): its key, the
 * step's reference, is new per transfer, so the outbox alone would send it again.
 *
 * On the refunded and cancelled stages only a document this transfer's own steps booked (a
 * refund's credit note) is e-mailed, never the order's invoice from its history: that would send
 * the customer the original invoice again for every refund. Without one the step fails, as it does
 * on a paid flow whose invoice is a draft: the step can never send anything in that flow, and a
 * skip would hide that the customer gets no credit note.
 */
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { isLocalDevelopment } from "../../mail/dev-outbox.provider";
import { sendMail } from "../../mail/send-mail";
import { renderTemplate } from "../../mail/templates";
import { type ActionResult, defineAction } from "../contract";
import type { EconomicContext } from "./economic.api";
import { customerName } from "./economic.customer";
import { bookedInvoiceFromSteps, invoiceTraces, type StepsContext } from "./economic.history";
import { sendInvoiceEmailSettings } from "./economic.payment-mail.settings";
import { bookedInvoicePdf } from "./economic.pdf";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

const DEFAULT_TIMEOUT_MS = 30_000;

export const sendInvoiceEmail = defineAction<typeof sendInvoiceEmailSettings, EconomicCredentials, EconomicConnectionSettings>({
  description: "Email the booked e-conomic invoice as a PDF to the customer (e-conomic's API cannot send email itself).",
  settings: sendInvoiceEmailSettings,
  async run(ctx, { order, refund }) {
    const invoiceNumber = await documentToEmail(ctx, order, refund);
    const sentBefore = ctx.prior?.outputs;
    if (sentBefore?.bookedInvoiceNumber === invoiceNumber && typeof sentBefore.mailId === "string") {
      return {
        externalId: ctx.prior?.externalId ?? sentBefore.mailId,
        created: false,
        outputs: { ...sentBefore, deduplicated: true },
      };
    }
    const elsewhere = sentByOtherTransfer(ctx, invoiceNumber);
    if (elsewhere) return elsewhere;
    const mailConnection = ctx.settings.mailConnection;
    if (!mailConnection && !isLocalDevelopment(ctx.env))
      throw new OrderlyError(
        `Invoice ${invoiceNumber} was not e-mailed: the step has no mail connection. Choose a mail connection (Resend or Postmark) in the step's settings, then retry the transfer from the start with current settings.`,
        {
          errorClass: "validation",
          code: "economic_no_mail_connection",
          // Only reads before it: a retry with the flow's current settings may change the step.
          madeNothing: true,
        },
      );
    const to = order.customer?.email?.trim();
    if (!to)
      throw new OrderlyError(`Order ${order.source.orderNumber} has no customer e-mail to send invoice ${invoiceNumber} to.`, {
        errorClass: "validation",
        code: "economic_no_recipient",
      });
    const values = {
      "order.number": order.source.orderNumber,
      "invoice.number": invoiceNumber,
      "customer.name": customerName(order) ?? "",
      "order.total": `${toDecimalString(order.totals.total, order.currency)} ${order.currency}`,
    };
    const subject = renderTemplate(ctx.settings.subject, values);
    const text = renderTemplate(ctx.settings.body, values);
    const timeoutMs = Number(ctx.env.OUTBOUND_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS;
    const pdf = await bookedInvoicePdf(ctx, invoiceNumber, timeoutMs);
    const filename = `invoice-${invoiceNumber}.pdf`;
    ctx.mapped({ to: [to], subject, text, attachments: [{ filename, contentType: "application/pdf", size: pdf.byteLength }] });
    const sent = await sendMail(ctx.env, {
      tenantId: ctx.connection.tenantId,
      idempotencyKey: ctx.reference,
      email: { to: [to], subject, text, attachments: [{ filename, contentType: "application/pdf", content: pdf }] },
      // No connection gets this far only in local development: the dev outbox keeps the email.
      ...(mailConnection ? { via: { connectionId: mailConnection } } : {}),
    });
    return {
      externalId: sent.providerId || sent.id,
      created: !sent.deduplicated,
      outputs: {
        bookedInvoiceNumber: invoiceNumber,
        mailId: sent.id,
        provider: sent.provider,
        providerId: sent.providerId,
        deduplicated: sent.deduplicated,
        to,
        ...(sent.note ? { note: sent.note } : {}),
      },
    };
  },
});

/**
 * The booked number of the document to e-mail. On the refunded and cancelled stages only this
 * transfer's own steps count (`previous`): the order's history holds the original invoice.
 */
async function documentToEmail(
  ctx: StepsContext & EconomicContext,
  order: CanonicalOrder,
  refund: CanonicalRefund | undefined,
): Promise<number> {
  // The refund in the input is what marks the refunded stage; the order's own stage may lag.
  const stage = refund || order.stage === "refunded" ? "refunded" : order.stage === "cancelled" ? "cancelled" : undefined;
  const steps = stage ? { ...ctx, history: [] } : ctx;
  const booked = (await bookedInvoiceFromSteps(steps))?.bookedInvoiceNumber;
  if (booked !== undefined) return booked;
  if (!stage)
    throw new OrderlyError("There is no booked e-conomic invoice to email: only a booked invoice has its final PDF.", {
      errorClass: "validation",
      code: "economic_no_booked_invoice",
      // Only reads before it: nothing was made, so the flow may put bookInvoice in its place.
      madeNothing: true,
    });
  const ofOrder = `order ${order.source.orderNumber}`;
  if (stage === "cancelled")
    throw new OrderlyError(
      `The cancelled ${ofOrder} has no booked document from this flow to e-mail, and its invoice is not e-mailed for a cancellation. Remove this step from the cancelled flow.`,
      // Only reads before it: a retry with the flow's current settings may remove the step.
      { errorClass: "validation", code: "economic_cancelled_nothing_to_email", madeNothing: true },
    );
  const theRefund = `${refund ? `refund ${refund.source.refundId}` : "the refund"} of ${ofOrder}`;
  const draft = invoiceTraces(steps).find((t) => t.draftInvoiceNumber !== undefined)?.draftInvoiceNumber;
  const what =
    draft === undefined
      ? `There is no booked credit note from this flow to e-mail for ${theRefund}`
      : `The credit note for ${theRefund} is still a draft (draft invoice ${draft}), and only a booked one has its final PDF`;
  throw new OrderlyError(
    `${what}. The order's invoice is not e-mailed again for a refund. Book the credit note in this flow (createCreditNote with the booked state, or a bookInvoice step before this one), or remove this step from the refunded flow.`,
    // Only reads before it: a retry with the flow's current settings may book the credit note first.
    { errorClass: "validation", code: "economic_no_booked_credit_note", madeNothing: true },
  );
}

/**
 * The same booked invoice e-mailed by a sendInvoiceEmail step of another of the order's transfers
 * on this connection (oldest first, so the one that sent it): nothing is sent again.
 */
function sentByOtherTransfer(ctx: StepsContext, invoiceNumber: number): ActionResult | undefined {
  const earlier = ctx.history.find(
    (h) =>
      h.target === ctx.connection.id &&
      h.action === "sendInvoiceEmail" &&
      h.result.outputs.bookedInvoiceNumber === invoiceNumber &&
      typeof h.result.outputs.mailId === "string",
  );
  if (!earlier) return undefined;
  const sent = earlier.result.outputs;
  const to = typeof sent.to === "string" ? ` to ${sent.to}` : "";
  return {
    externalId: earlier.result.externalId,
    created: false,
    outputs: {
      ...sent,
      deduplicated: true,
      sentBy: { transferId: earlier.transferId, stage: earlier.stage, stepIndex: earlier.stepIndex },
      reason: `Invoice ${invoiceNumber} was already e-mailed${to} by step ${earlier.stepIndex + 1} of the order's ${earlier.stage}-stage transfer ${earlier.transferId} (mail ${String(sent.mailId)}); it is not sent again.`,
    },
  };
}
