/**
 * `sendInvoiceEmail`: Billy e-mails the approved invoice to a contact person of its contact
 * (`POST /invoices/{id}/emails`, one contact person per call). Billy marks the invoice's `sentState`,
 * so an invoice already e-mailed is adopted instead of e-mailed again.
 */
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { renderTemplate, type TemplateValues } from "../../mail/templates";
import { defineAction } from "../contract";
import { type BillyContext, billyRequest, findInList, settingsError } from "./billy.api";
import { contactName } from "./billy.contact";
import { getInvoice } from "./billy.documents";
import { invoiceFor } from "./billy.history";
import type { BillyInvoice } from "./billy.invoice";
import { type BillyConnectionSettings, type BillyCredentials, sendInvoiceEmailSettings } from "./billy.settings";

/**
 * The `sentState`s (of unsent, printed, sent, opened, viewed) that mean Billy e-mailed the invoice.
 * A printed one was not e-mailed, so it is e-mailed still.
 */
const ALREADY_SENT: ReadonlySet<string> = new Set(["sent", "opened", "viewed"]);

/** The values the subject and body may use. */
export function emailValues(order: CanonicalOrder, invoice: Pick<BillyInvoice, "id" | "invoiceNo">): TemplateValues {
  return {
    "order.number": order.source.orderNumber,
    "order.total": `${toDecimalString(order.totals.total, order.currency)} ${order.currency}`,
    "customer.name": contactName(order) ?? "",
    "invoice.number": invoice.invoiceNo === undefined || invoice.invoiceNo === null ? "" : String(invoice.invoiceNo),
    "invoice.id": invoice.id,
  };
}

export function renderInvoiceEmail(
  templates: { subject: string; body: string },
  order: CanonicalOrder,
  invoice: Pick<BillyInvoice, "id" | "invoiceNo">,
): { emailSubject: string; emailBody: string } {
  const values = emailValues(order, invoice);
  return { emailSubject: renderTemplate(templates.subject, values), emailBody: renderTemplate(templates.body, values) };
}

export const sendInvoiceEmail = defineAction<typeof sendInvoiceEmailSettings, BillyCredentials, BillyConnectionSettings>({
  description: "Have Billy e-mail the approved invoice to the customer's contact person, once.",
  settings: sendInvoiceEmailSettings,
  async run(ctx, { order }) {
    const invoiceId = invoiceFor(ctx);
    if (!invoiceId)
      // Read from the step's own context, before any call: nothing made, so the flow may put
      // createInvoice in its place (OrderlyError.madeNothing).
      throw new OrderlyError(
        "There is no Billy invoice to send: put a Billy createInvoice step before sendInvoiceEmail, or on an earlier stage of the order.",
        { errorClass: "validation", code: "billy_no_invoice", madeNothing: true },
      );
    const invoice = await getInvoice(ctx, invoiceId);
    if (!invoice) throw settingsError(`Billy has no invoice ${invoiceId} (deleted?).`, "billy_invoice_gone", { invoiceId });
    if (invoice.sentState && ALREADY_SENT.has(invoice.sentState))
      return { externalId: invoiceId, created: false, outputs: { invoiceId, sentState: invoice.sentState, alreadySent: true } };
    if (invoice.state !== "approved")
      throw settingsError(
        `Billy invoice ${invoiceId} is still a draft; Billy e-mails approved invoices only. Approve it in Billy (or book invoices at once), then retry.`,
        "billy_invoice_not_approved",
        { invoiceId },
      );
    const contactPersonId = ctx.settings.contactPersonId ?? (await primaryContactPerson(ctx, invoice));
    const email = { contactPersonId, ...renderInvoiceEmail(ctx.settings, order, invoice) };
    ctx.mapped({ invoiceId, email });
    await billyRequest(ctx, {
      method: "POST",
      path: `/invoices/${encodeURIComponent(invoiceId)}/emails`,
      json: { email },
    });
    return {
      externalId: invoiceId,
      created: true,
      outputs: { invoiceId, contactPersonId, subject: email.emailSubject, sentState: "sent" },
    };
  },
});

interface BillyContactPerson {
  id: string;
  contactId?: string;
  email?: string | null;
  isPrimary?: boolean;
}

/**
 * The invoice contact's primary person with an e-mail, else any of its people with one. The
 * `contactId` filter is unconfirmed for contact persons, so every answer is checked locally and
 * every page read (findInList): one Billy ignored lists all the company's people, 1,000 a page.
 */
async function primaryContactPerson(ctx: BillyContext, invoice: BillyInvoice): Promise<string> {
  const contactId = invoice.contactId;
  if (!contactId) throw settingsError(`Billy invoice ${invoice.id} has no contact to e-mail.`, "billy_no_recipient");
  const lookup = {
    resource: "contactPersons",
    filter: { contactId },
    instead: "Set contactPersonId in the step's settings to name the recipient.",
  };
  const reachable = (p: BillyContactPerson) => p.contactId === contactId && Boolean(p.email?.trim());
  // The second pass runs only for a contact without a primary person that has an e-mail.
  const person =
    (await findInList<BillyContactPerson>(ctx, lookup, (p) => reachable(p) && p.isPrimary === true)) ??
    (await findInList<BillyContactPerson>(ctx, lookup, reachable));
  if (!person)
    throw settingsError(
      `The Billy contact of invoice ${invoice.invoiceNo ?? invoice.id} has no contact person with an e-mail address: add one in Billy or set contactPersonId.`,
      "billy_no_recipient",
      { contactId },
    );
  return person.id;
}
