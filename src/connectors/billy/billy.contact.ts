/**
 * Finds the order's buyer among the company's Billy contacts by the configured property, or creates
 * the contact (a company when the order names a company or VAT number, else a person) with a primary
 * contact person carrying the e-mail, so Billy can send the invoice to it.
 *
 * Billy documents list filters for invoices but not for contacts or contact persons: the filters
 * below are the records' own property names, as public integrations use `contactNo`. Every answer is
 * checked locally, so a filter Billy ignored can never pick the wrong contact, and every page is
 * read (findInList), so it cannot miss the right one either.
 */

import type { Address, CanonicalOrder } from "../../domain/order";
import { oneAtATime } from "../contract";
import { type BillyContext, billyRequest, changedRecord, envelope, findInList, type Json, settingsError } from "./billy.api";
import type { BillyCustomerMatch, CreateInvoiceSettings } from "./billy.settings";

type ContactSettings = Pick<
  CreateInvoiceSettings,
  "customerMatch" | "sharedContactId" | "b2bPaymentTermsDays" | "b2cPaymentTermsDays" | "homeCountry"
>;

/** A lookup: which list to ask, with which filter, and the property the answer must carry. */
export interface ContactLookup {
  resource: "contacts" | "contactPersons";
  filter: Record<string, string>;
}

export type ContactPlan = { kind: "shared"; contactId: string } | { kind: "match"; lookups: ContactLookup[] };

export interface BillyContactRef {
  contactId: string;
  created: boolean;
}

export function isBusiness(order: CanonicalOrder): boolean {
  const c = order.customer;
  return Boolean(c?.company?.trim() || c?.vatNumber?.trim() || invoiceAddress(order)?.company?.trim());
}

export function invoiceAddress(order: CanonicalOrder): Address | undefined {
  return order.billingAddress ?? order.shippingAddress;
}

/** The name the contact goes by: company, else the person, else the address name. */
export function contactName(order: CanonicalOrder): string | undefined {
  const c = order.customer;
  const person = [c?.firstName, c?.lastName].filter((p) => p?.trim()).join(" ");
  const address = invoiceAddress(order);
  return [c?.company, address?.company, person, address?.name].map((n) => n?.trim()).find((n): n is string => Boolean(n));
}

function personName(order: CanonicalOrder): string | undefined {
  const c = order.customer;
  const person = [c?.firstName, c?.lastName].filter((p) => p?.trim()).join(" ");
  return person || invoiceAddress(order)?.name?.trim() || contactName(order);
}

const text = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);

function lookupBy(match: Exclude<BillyCustomerMatch, "shared">, order: CanonicalOrder): ContactLookup | undefined {
  const c = order.customer;
  switch (match) {
    case "email": {
      const email = text(c?.email)?.toLowerCase();
      return email ? { resource: "contactPersons", filter: { email } } : undefined;
    }
    case "phone": {
      const phone = text(c?.phone) ?? text(invoiceAddress(order)?.phone);
      return phone ? { resource: "contacts", filter: { phone } } : undefined;
    }
    case "vatNumber": {
      const vat = text(c?.vatNumber);
      return vat ? { resource: "contacts", filter: { registrationNo: vat } } : undefined;
    }
    case "ean": {
      const ean = text(c?.ean);
      return ean ? { resource: "contacts", filter: { ean } } : undefined;
    }
    case "customerNumber": {
      const id = text(c?.sourceId);
      return id ? { resource: "contacts", filter: { contactNo: id } } : undefined;
    }
    case "namePostcode": {
      const name = contactName(order);
      const postcode = text(invoiceAddress(order)?.postcode);
      return name && postcode ? { resource: "contacts", filter: { name, zipcodeText: postcode } } : undefined;
    }
  }
}

/**
 * How the buyer is found: by the configured property, or by name and postcode when the order lacks
 * it (as e-conomic's customerLookup). An order with neither makes a new contact: a name alone may be
 * another customer. When the order has a contact's own property (phone, VAT, EAN, customer number)
 * and no contact carries it as written, name and postcode are tried last (namesakeLookup), taking
 * only a contact that carries the same value written another way.
 */
export function contactPlan(
  order: CanonicalOrder,
  settings: Pick<ContactSettings, "customerMatch" | "sharedContactId">,
): ContactPlan {
  const business = isBusiness(order);
  if (settings.customerMatch === "shared" && !business) {
    if (!settings.sharedContactId)
      throw settingsError(
        "Customer match is 'shared' but sharedContactId is empty: name the Billy contact for consumer orders.",
        "billy_shared_contact_missing",
      );
    return { kind: "shared", contactId: settings.sharedContactId };
  }
  const configured: Array<Exclude<BillyCustomerMatch, "shared">> =
    settings.customerMatch === "shared" ? ["vatNumber", "email"] : [settings.customerMatch];
  const lookups = configured.map((m) => lookupBy(m, order)).filter((l): l is ContactLookup => l !== undefined);
  if (lookups.length > 0) return { kind: "match", lookups };
  const fallback = lookupBy("namePostcode", order);
  return { kind: "match", lookups: fallback ? [fallback] : [] };
}

/** The body of `POST /contacts`: Billy's contact fields, with a primary contact person when there is an e-mail. */
export function contactBody(order: CanonicalOrder, settings: ContactSettings): Json {
  const name = contactName(order);
  if (!name)
    throw settingsError(
      "The order has no customer name, company or address name, which Billy needs for a contact.",
      "billy_contact_name_missing",
    );
  const c = order.customer;
  const address = invoiceAddress(order);
  const business = isBusiness(order);
  const email = text(c?.email);
  const street = [address?.line1, address?.line2].map(text).filter(Boolean).join(", ");
  const fields: Json = {
    type: business ? "company" : "person",
    name,
    countryId: (address?.country ?? settings.homeCountry).toUpperCase(),
    street: street || undefined,
    zipcodeText: text(address?.postcode),
    cityText: text(address?.city),
    phone: text(c?.phone) ?? text(address?.phone),
    registrationNo: text(c?.vatNumber),
    ean: text(c?.ean),
    // Matching by customer number only finds the contact later if it carries that number.
    contactNo: settings.customerMatch === "customerNumber" ? text(c?.sourceId) : undefined,
    isCustomer: true,
    paymentTermsDays: business ? settings.b2bPaymentTermsDays : settings.b2cPaymentTermsDays,
    contactPersons: email ? [{ name: personName(order) ?? name, email, isPrimary: true }] : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== ""));
}

export async function findOrCreateContact(
  ctx: BillyContext,
  order: CanonicalOrder,
  settings: ContactSettings,
): Promise<BillyContactRef> {
  const plan = contactPlan(order, settings);
  if (plan.kind === "shared") return { contactId: plan.contactId, created: false };
  const body = contactBody(order, settings);
  const namesake = namesakeLookup(order, plan.lookups);
  const find = async (): Promise<BillyContactRef | undefined> => {
    for (const lookup of plan.lookups) {
      const contactId = await findContact(ctx, lookup);
      if (contactId) return { contactId, created: false };
    }
    return namesake ? findNamesake(ctx, namesake, plan.lookups, invoiceAddress(order)?.country) : undefined;
  };
  const create = async (): Promise<BillyContactRef> => {
    const res = await billyRequest(ctx, { method: "POST", path: "/contacts", json: envelope(ctx, "contact", body) });
    return { contactId: changedRecord<{ id: string }>(res.body, "contacts", "contact").id, created: true };
  };
  const first = plan.lookups[0];
  if (!first) return create();
  // Two orders of one new buyer at once would both miss the lookup and both create the contact,
  // so the lookups and the create run holding the buyer (before the lookups: see e-conomic's
  // findOrCreateCustomer).
  const key = `contact:${first.resource}:${JSON.stringify(first.filter).toLowerCase()}`;
  return oneAtATime(ctx, key, async () => (await find()) ?? create());
}

const INSTEAD =
  "If the buyer has two contacts in Billy now, merge them; match customers by another property (customerMatch) or on a shared contact to avoid it.";

async function findContact(ctx: BillyContext, lookup: ContactLookup): Promise<string | undefined> {
  const found = await findInList(ctx, { ...lookup, instead: INSTEAD }, (record) =>
    Object.entries(lookup.filter).every(([key, value]) => same(record[key], value)),
  );
  if (!found) return undefined;
  const id = lookup.resource === "contactPersons" ? found.contactId : found.id;
  return typeof id === "string" ? id : undefined;
}

function same(actual: unknown, wanted: string): boolean {
  return typeof actual === "string" && actual.trim().toLowerCase() === wanted.trim().toLowerCase();
}

/**
 * Name and postcode as the last lookup of an order that has the configured property: Billy may
 * store a phone, VAT, EAN or customer number in another form (spaced, prefixed), so a retry after a
 * lost POST /contacts answer misses the contact it made. Undefined when the plan is already name
 * and postcode, the order lacks either, or the match is by e-mail only: an e-mail is exact, so a
 * namesake found by name is never the buyer's contact by it (a contact without the buyer's e-mail
 * may be another customer's of the same name).
 */
function namesakeLookup(order: CanonicalOrder, lookups: readonly ContactLookup[]): ContactLookup | undefined {
  const fallback = lookupBy("namePostcode", order);
  if (!fallback || !lookups.some((l) => l.resource === "contacts") || lookups.some((l) => l.filter.zipcodeText !== undefined))
    return undefined;
  return fallback;
}

/** Namesakes looked at at most: beyond a few in one postcode, a new contact is the safer guess. */
const MAX_NAMESAKES = 5;

/**
 * A contact of the order's name and postcode that carries the configured property with the order's
 * value, written another way. One without it is not taken: it may be a second Mette Nielsen in 2200
 * (made by hand, or from an order without that property), whose debtor account and invoice e-mails
 * would get this buyer's invoice.
 */
async function findNamesake(
  ctx: BillyContext,
  lookup: ContactLookup,
  configured: readonly ContactLookup[],
  country: string | undefined,
): Promise<BillyContactRef | undefined> {
  const rejected = new Set<unknown>();
  for (let tried = 0; tried < MAX_NAMESAKES; tried++) {
    const found = await findInList(
      ctx,
      { ...lookup, instead: INSTEAD },
      (record) => !rejected.has(record.id) && Object.entries(lookup.filter).every(([key, value]) => same(record[key], value)),
    );
    if (typeof found?.id !== "string") return undefined;
    if (carriesSameNumber(found, configured, country)) return { contactId: found.id, created: false };
    rejected.add(found.id);
  }
  return undefined;
}

/**
 * True when the contact carries one configured contact property with the order's value, up to
 * spaces and punctuation (and a phone's calling code of the order's `country`).
 */
function carriesSameNumber(contact: Json, configured: readonly ContactLookup[], country: string | undefined): boolean {
  return configured.some(
    ({ resource, filter }) =>
      resource === "contacts" &&
      Object.entries(filter).every(([key, wanted]) => {
        const actual = contact[key];
        return typeof actual === "string" && sameNumber(key, actual, wanted, country);
      }),
  );
}

/** A phone, VAT, EAN or customer number as letters and digits: "+45 12 34 56 78" is "4512345678". */
export const plainNumber = (value: string) => value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");

/**
 * Country calling codes of the countries Orderly's merchants sell to (ISO country → code): the
 * Nordics with the Faroes, Greenland and Åland, the EU, the UK, Switzerland, Liechtenstein, the US
 * and Canada. A country not listed compares phones up to spaces and punctuation only.
 */
const CALLING_CODES: Readonly<Record<string, string>> = {
  DK: "45",
  FO: "298",
  GL: "299",
  SE: "46",
  NO: "47",
  FI: "358",
  AX: "358",
  IS: "354",
  AT: "43",
  BE: "32",
  BG: "359",
  HR: "385",
  CY: "357",
  CZ: "420",
  EE: "372",
  FR: "33",
  DE: "49",
  GR: "30",
  HU: "36",
  IE: "353",
  IT: "39",
  LV: "371",
  LT: "370",
  LU: "352",
  MT: "356",
  NL: "31",
  PL: "48",
  PT: "351",
  RO: "40",
  SK: "421",
  SI: "386",
  ES: "34",
  GB: "44",
  CH: "41",
  LI: "423",
  US: "1",
  CA: "1",
};

/**
 * National (significant) number lengths where a country has one, so a bare "4512345678" can be
 * read as DK "+45 12345678". Countries whose numbers vary in length are left out: there a
 * calling code is taken off only when written with "+" or "00".
 */
const NATIONAL_LENGTHS: Readonly<Record<string, number>> = {
  DK: 8,
  NO: 8,
  FO: 6,
  GL: 6,
  IS: 7,
  CY: 8,
  CZ: 9,
  FR: 9,
  GR: 10,
  LV: 8,
  LT: 8,
  MT: 8,
  NL: 9,
  PL: 9,
  PT: 9,
  RO: 9,
  SK: 9,
  SI: 8,
  ES: 9,
  CH: 9,
  LI: 7,
  US: 10,
  CA: 10,
};

/**
 * A phone without the order country's calling `code`: "+45 12345678", "0045 12345678" and, where
 * the country's numbers have one `length`, a bare "4512345678" are "12345678". A bare number is
 * otherwise taken as written: "45 12 34 56" is a national number beginning with 45, not "123456".
 */
function nationalPhone(value: string, code: string, length: number | undefined): string {
  const plain = plainNumber(value);
  const dialled = value.trim().startsWith("+") ? plain : plain.startsWith("00") ? plain.slice(2) : undefined;
  if (dialled !== undefined) return dialled.startsWith(code) ? dialled.slice(code.length) : dialled;
  const bareWithCode = length !== undefined && plain.length === code.length + length && plain.startsWith(code);
  return bareWithCode ? plain.slice(code.length) : plain;
}

/**
 * Whether two values of a contact property are the same number: up to spaces and punctuation, for
 * a VAT number (`registrationNo`) also up to its country prefix ("DK12345678" is "12 34 56 78"), and
 * for a phone, when the order's `country` is known, up to that country's calling code (nationalPhone).
 */
export function sameNumber(key: string, a: string, b: string, country?: string): boolean {
  const upper = country?.toUpperCase();
  const code = key === "phone" && upper ? CALLING_CODES[upper] : undefined;
  if (code && upper) {
    const [x, y] = [a, b].map((v) => nationalPhone(v, code, NATIONAL_LENGTHS[upper]));
    return x !== "" && x === y;
  }
  if (key !== "registrationNo") return plainNumber(a) !== "" && plainNumber(a) === plainNumber(b);
  // A country prefix may be left out on one side, not differ: DK12345678 and FI12345678 are two companies.
  const split = (v: string) => /^([a-z]{2})?(.*)$/.exec(plainNumber(v)) as RegExpExecArray;
  const [, prefixA, numberA] = split(a);
  const [, prefixB, numberB] = split(b);
  return numberA !== "" && numberA === numberB && (prefixA === undefined || prefixB === undefined || prefixA === prefixB);
}
