/**
 * `sendInvoiceEmail`: Billy e-mails the approved invoice to a contact person of its contact
 * (`POST /invoices/{id}/emails`, one contact person per call): the one with the order's e-mail, or
 * for a business order on its company's own contact, that contact's primary person.
 * Billy marks the invoice's `sentState`, so an invoice already e-mailed is adopted instead of
 * e-mailed again.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { renderTemplate, type TemplateValues } from "../../mail/templates";
import { defineAction } from "../contract";
import { type BillyContext, billyRequest, findInList, isRecord, settingsError } from "./billy.api";
import { contactName, isBusiness, plainNumber, sameNumber } from "./billy.contact";
import { getInvoice } from "./billy.documents";
import { invoiceFor } from "./billy.history";
import type { BillyInvoice } from "./billy.invoice";
import {
  type BillyConnectionSettings,
  type BillyCredentials,
  type SendInvoiceEmailSettings,
  sendInvoiceEmailSettings,
} from "./billy.settings";

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
  description: "Have Billy e-mail the approved invoice to the contact person with the customer's e-mail, once.",
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
    const contactPersonId = await recipient(ctx, order, invoice);
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

/** A contact person as Billy answers with it; only the fields the recipient is chosen by. */
const contactPersonSchema = z.object({
  id: z.string().min(1),
  contactId: z.string().nullish(),
  email: z.string().nullish(),
  isPrimary: z.boolean().nullish(),
});
type BillyContactPerson = z.infer<typeof contactPersonSchema>;

const normalEmail = (email: string | null | undefined) => email?.trim().toLowerCase() || undefined;

function noRecipient(message: string, details: Record<string, unknown>): OrderlyError {
  // Only reads happened: a retry with the flow's current settings may replace the step.
  return new OrderlyError(message, { errorClass: "validation", code: "billy_no_recipient", details, madeNothing: true });
}

/**
 * Who Billy e-mails the invoice to. The invoice's contact may not be the buyer's own (a shared
 * placeholder for consumers, a namesake matched by name and postcode, a contact matched by phone
 * whose person has another address), so the person must carry the order's e-mail. A business order
 * goes to its contact's primary person when it has no e-mail, or when no person has it but the
 * contact is the company's own (companyContact): a company's invoices go to its bookkeeping address,
 * not to each buyer's. A consumer's contact without the buyer's address cannot be trusted to be the
 * buyer.
 */
async function recipient(
  ctx: BillyContext & { settings: SendInvoiceEmailSettings },
  order: CanonicalOrder,
  invoice: BillyInvoice,
): Promise<string> {
  const contactId = invoice.contactId;
  const invoiceName = String(invoice.invoiceNo ?? invoice.id);
  if (!contactId) throw noRecipient(`Billy invoice ${invoiceName} has no contact to e-mail.`, { invoiceId: invoice.id });
  if (ctx.settings.contactPersonId) return configuredPerson(ctx, ctx.settings.contactPersonId, contactId, invoiceName);
  const email = normalEmail(order.customer?.email);
  if (email) {
    const person = await findPerson(ctx, contactId, (p) => normalEmail(p.email) === email);
    if (person) return person.id;
    const fallback = isBusiness(order) ? await companyPerson(ctx, order, contactId) : undefined;
    if (fallback) return fallback.id;
    throw noRecipient(
      `The Billy contact of invoice ${invoiceName} has no contact person with the buyer's e-mail ${email}, so Billy cannot e-mail the invoice to the buyer (another person of that contact would get it). In Billy, add ${email} as a contact person of that contact (or correct the person's e-mail) and retry. If the contact is another customer's, or the shared contact for consumer orders, match customers by e-mail (customerMatch) so that each buyer gets a contact of their own: a consumer's invoice on the shared contact cannot be e-mailed through Billy.${isBusiness(order) ? " For a company, put the order's VAT number or EAN on its Billy contact, with the company's name as the shop has it: its primary person then gets the company's invoices." : ""}`,
      { contactId, email },
    );
  }
  if (!isBusiness(order))
    throw noRecipient(
      `Order ${order.source.orderNumber} has no customer e-mail, and its invoice's Billy contact may not be the buyer's own (the shared contact for consumer orders, or one matched by name, phone or customer number), so Orderly does not e-mail it. Send invoice ${invoiceName} from Billy by hand if the buyer should get it, and have the shop ask for an e-mail address.`,
      { contactId },
    );
  const person = await primaryPerson(ctx, contactId);
  if (!person)
    throw noRecipient(
      `The Billy contact of invoice ${invoiceName} has no contact person with an e-mail address, and order ${order.source.orderNumber} has no e-mail either. In Billy, add the buyer's e-mail as a contact person of that contact, then retry.`,
      { contactId },
    );
  return person.id;
}

/** The contact's primary person with an e-mail, else any person with one. */
async function primaryPerson(ctx: BillyContext, contactId: string): Promise<BillyContactPerson | undefined> {
  // The second pass runs only for a contact without a primary person that has an e-mail.
  const reachable = (p: BillyContactPerson) => Boolean(normalEmail(p.email));
  return (
    (await findPerson(ctx, contactId, (p) => reachable(p) && p.isPrimary === true)) ??
    (await findPerson(ctx, contactId, reachable))
  );
}

/** A contact as Billy answers with it; only the company numbers it is recognised by. */
const contactSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  registrationNo: z.string().nullish(),
  ean: z.string().nullish(),
});

/**
 * The contact's primary person, when the contact is the buyer's company's own: it carries the
 * order's VAT number (up to its country prefix) or EAN, and its name is the order's company. A
 * number alone is what the buyer typed: another company's CVR typed by mistake would otherwise mail
 * that company the invoice. An e-mail domain is no second sign (gmail.com is everyone's), and a
 * customer number none at all: unless the flow matched by it, it is the bookkeeper's own numbering,
 * and a shop's customer ids are small integers.
 */
async function companyPerson(
  ctx: BillyContext,
  order: CanonicalOrder,
  contactId: string,
): Promise<BillyContactPerson | undefined> {
  const res = await billyRequest(ctx, { method: "GET", path: `/contacts/${encodeURIComponent(contactId)}`, accept: [404] });
  if (res.status === 404) return undefined;
  const parsed = contactSchema.safeParse(isRecord(res.body) ? res.body.contact : undefined);
  if (!parsed.success)
    throw new OrderlyError(`Billy's answer did not show contact ${contactId}.`, {
      errorClass: "unavailable",
      code: "billy_unexpected_answer",
      details: res.body,
    });
  const c = order.customer;
  const contact = parsed.data;
  const carries = (key: string, actual: string | null | undefined, wanted: string | undefined) =>
    typeof actual === "string" && wanted !== undefined && sameNumber(key, actual, wanted);
  if (!carries("registrationNo", contact.registrationNo, c?.vatNumber) && !carries("ean", contact.ean, c?.ean)) return undefined;
  const person = await primaryPerson(ctx, contactId);
  if (!person) return undefined;
  const company = c?.company ?? order.billingAddress?.company;
  const sameName = company !== undefined && contact.name != null && plainNumber(contact.name) === plainNumber(company);
  return sameName ? person : undefined;
}

/**
 * A person of the invoice's contact that `matches`. The `contactId` filter is unconfirmed for
 * contact persons, so every answer is checked locally and every page read (findInList): one Billy
 * ignored lists all the company's people, 1,000 a page.
 */
async function findPerson(
  ctx: BillyContext,
  contactId: string,
  matches: (person: BillyContactPerson) => boolean,
): Promise<BillyContactPerson | undefined> {
  const lookup = {
    resource: "contactPersons",
    filter: { contactId },
    instead:
      "The invoice's recipient may then not be found: check in Billy that its contact has a person with the buyer's e-mail.",
  };
  const own = (record: unknown) => {
    const parsed = contactPersonSchema.safeParse(record);
    return parsed.success && parsed.data.contactId === contactId && matches(parsed.data) ? parsed.data : undefined;
  };
  const found = await findInList<unknown>(ctx, lookup, (record) => own(record) !== undefined);
  return found === undefined ? undefined : own(found);
}

/**
 * The step's fixed recipient, checked against this invoice: a person of another contact would get
 * this buyer's invoice (or Billy would refuse it with a less helpful error).
 */
async function configuredPerson(ctx: BillyContext, personId: string, contactId: string, invoiceName: string): Promise<string> {
  const res = await billyRequest(ctx, {
    method: "GET",
    path: `/contactPersons/${encodeURIComponent(personId)}`,
    accept: [404],
  });
  const fixOrClear =
    "This setting is for flows whose invoices all go to one contact: clear it so that each invoice goes to the person with its buyer's e-mail, or keep it only in a flow that books every invoice on that person's contact.";
  if (res.status === 404)
    throw noRecipient(`The step's contactPersonId ${personId} is not a contact person in Billy (deleted?). ${fixOrClear}`, {
      contactPersonId: personId,
    });
  const parsed = contactPersonSchema.safeParse(isRecord(res.body) ? res.body.contactPerson : undefined);
  if (!parsed.success)
    throw new OrderlyError(`Billy's answer did not show contact person ${personId}.`, {
      errorClass: "unavailable",
      code: "billy_unexpected_answer",
      details: res.body,
    });
  if (parsed.data.contactId !== contactId)
    throw noRecipient(
      `The step's contactPersonId ${personId} is a person of another Billy contact than invoice ${invoiceName}'s, so Billy would e-mail this buyer's invoice to someone else. ${fixOrClear}`,
      { contactPersonId: personId, personContactId: parsed.data.contactId ?? null, contactId },
    );
  if (!normalEmail(parsed.data.email))
    throw noRecipient(
      `The step's contactPersonId ${personId} has no e-mail address in Billy: add one to that contact person in Billy, then retry.`,
      { contactPersonId: personId },
    );
  return parsed.data.id;
}
