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
 * outbox kept a record of sent ones): the customer has that invoice already.
 */
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import { isLocalDevelopment } from "../../mail/dev-outbox.provider";
import { sendMail } from "../../mail/send-mail";
import { renderTemplate } from "../../mail/templates";
import { defineAction } from "../contract";
import { customerName } from "./economic.customer";
import { bookedInvoiceFromSteps } from "./economic.history";
import { sendInvoiceEmailSettings } from "./economic.payment-mail.settings";
import { bookedInvoicePdf } from "./economic.pdf";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

const DEFAULT_TIMEOUT_MS = 30_000;

export const sendInvoiceEmail = defineAction<typeof sendInvoiceEmailSettings, EconomicCredentials, EconomicConnectionSettings>({
  description: "Email the booked e-conomic invoice as a PDF to the customer (e-conomic's API cannot send email itself).",
  settings: sendInvoiceEmailSettings,
  async run(ctx, { order }) {
    const invoice = await bookedInvoiceFromSteps(ctx);
    const invoiceNumber = invoice?.bookedInvoiceNumber;
    if (invoiceNumber === undefined)
      throw new OrderlyError("There is no booked e-conomic invoice to email: only a booked invoice has its final PDF.", {
        errorClass: "validation",
        code: "economic_no_booked_invoice",
        // Only reads before it: nothing was made, so the flow may put bookInvoice in its place.
        madeNothing: true,
      });
    const sentBefore = ctx.prior?.outputs;
    if (sentBefore?.bookedInvoiceNumber === invoiceNumber && typeof sentBefore.mailId === "string") {
      return {
        externalId: ctx.prior?.externalId ?? sentBefore.mailId,
        created: false,
        outputs: { ...sentBefore, deduplicated: true },
      };
    }
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
      },
    };
  },
});
