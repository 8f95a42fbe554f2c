/** The buyers of the accounting cases, with their addresses as the webshops send them. */

export interface Person {
  firstName: string;
  lastName: string;
  company?: string;
  /** EU VAT number or CVR, as a WooCommerce VAT plugin stores it. */
  vatNumber?: string;
  email: string;
  line1: string;
  postcode: string;
  city: string;
  /** ISO 3166-1 alpha-2 */
  country: string;
  /** The country as e-conomic prints it. */
  countryName: string;
  /** Consumer or business, as the table says it. */
  kind: "consumer" | "business";
}

export const PEOPLE = {
  ane: {
    firstName: "Ane",
    lastName: "Lund",
    email: "ane@example.dk",
    line1: "Vestergade 1",
    postcode: "8000",
    city: "Aarhus",
    country: "DK",
    countryName: "Denmark",
    kind: "consumer",
  },
  kim: {
    firstName: "Kim",
    lastName: "Meyer",
    email: "kim@example.de",
    line1: "Hauptstraße 5",
    postcode: "10115",
    city: "Berlin",
    country: "DE",
    countryName: "Germany",
    kind: "consumer",
  },
  sven: {
    firstName: "Sven",
    lastName: "Berg",
    email: "sven@example.se",
    line1: "Storgatan 1",
    postcode: "11122",
    city: "Stockholm",
    country: "SE",
    countryName: "Sweden",
    kind: "consumer",
  },
  claire: {
    firstName: "Claire",
    lastName: "Martin",
    email: "claire@example.fr",
    line1: "12 rue de Rivoli",
    postcode: "75001",
    city: "Paris",
    country: "FR",
    countryName: "France",
    kind: "consumer",
  },
  aino: {
    firstName: "Aino",
    lastName: "Virtanen",
    email: "aino@example.fi",
    line1: "Mannerheimintie 1",
    postcode: "00100",
    city: "Helsinki",
    country: "FI",
    countryName: "Finland",
    kind: "consumer",
  },
  sam: {
    firstName: "Sam",
    lastName: "Lee",
    email: "sam@example.com",
    line1: "1 Main St",
    postcode: "10001",
    city: "New York",
    country: "US",
    countryName: "United States",
    kind: "consumer",
  },
  ola: {
    firstName: "Ola",
    lastName: "Nordmann",
    email: "ola@example.no",
    line1: "Karl Johans gate 1",
    postcode: "0154",
    city: "Oslo",
    country: "NO",
    countryName: "Norway",
    kind: "consumer",
  },
  mueller: {
    firstName: "Jonas",
    lastName: "Müller",
    company: "Müller Werkzeuge GmbH",
    vatNumber: "DE123456789",
    email: "einkauf@mueller.de",
    line1: "Industriestraße 7",
    postcode: "50667",
    city: "Köln",
    country: "DE",
    countryName: "Germany",
    kind: "business",
  },
  nordisk: {
    firstName: "Mette",
    lastName: "Holm",
    company: "Nordisk Design ApS",
    vatNumber: "DK12345678",
    email: "indkob@nordisk.dk",
    line1: "Bredgade 20",
    postcode: "1260",
    city: "København K",
    country: "DK",
    countryName: "Denmark",
    kind: "business",
  },
} satisfies Record<string, Person>;

export type PersonKey = keyof typeof PEOPLE;

export function person(key: PersonKey): Person {
  return PEOPLE[key];
}

/** The name an invoice goes to: the company, else the person. */
export function invoiceName(p: Person): string {
  return p.company ?? `${p.firstName} ${p.lastName}`;
}
