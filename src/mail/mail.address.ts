/**
 * Mailbox syntax: a bare address (`ane@example.dk`) or one with a display name
 * (`Ane Lund <ane@example.dk>`). Deliberately narrower than RFC 5322: ASCII addresses with a dotted
 * domain, no comments, no line breaks. What passes here is accepted by both Resend and Postmark.
 */

export interface Mailbox {
  name?: string;
  address: string;
}

/** RFC 5321's limit on a path: no address, bracketed or not, is longer. */
export const MAX_ADDRESS_LENGTH = 320;
/** A display name before it ("Ane Lund <ane@example.dk>"), quotes and escapes included. */
export const MAX_DISPLAY_NAME_LENGTH = 256;
/**
 * The longest mailbox text parsed. WITH_NAME backtracks quadratically on long runs of spaces, and
 * the text can be a customer's e-mail from a webshop order, which has no length limit of its own
 * (80,000 spaces took 2.3 s); anything longer is refused before a pattern runs on it.
 */
export const MAX_MAILBOX_LENGTH = MAX_ADDRESS_LENGTH + MAX_DISPLAY_NAME_LENGTH;

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
const WITH_NAME = /^\s*(?:"((?:[^"\\\r\n]|\\.)*)"|([^<>"\r\n]*?))\s*<([^<>\s]+)>\s*$/;
/** Characters a display name may carry without quotes (RFC 5322 atext plus spaces). */
const PLAIN_NAME = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$/;

/** True for `local@domain.tld` within the 254-character limit of a forward path. */
export function isEmailAddress(text: string): boolean {
  if (text.length > 254) return false;
  const at = text.lastIndexOf("@");
  if (at < 1) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  return local.length <= 64 && LOCAL_PART.test(local) && DOMAIN.test(domain);
}

/** Parses a bare address or `Name <address>`; null when it is neither, or longer than MAX_MAILBOX_LENGTH. */
export function parseMailbox(text: string): Mailbox | null {
  if (text.length > MAX_MAILBOX_LENGTH || /[\r\n]/.test(text)) return null;
  const trimmed = text.trim();
  if (isEmailAddress(trimmed)) return { address: trimmed };
  const match = WITH_NAME.exec(trimmed);
  if (!match) return null;
  const address = match[3] ?? "";
  if (!isEmailAddress(address)) return null;
  const name = (match[1] === undefined ? match[2] : match[1].replace(/\\(.)/g, "$1"))?.trim();
  return name ? { name, address } : { address };
}

/** Writes a mailbox back, quoting a display name that carries punctuation (`"Lund, Ane" <ane@example.dk>`). */
export function formatMailbox(mailbox: Mailbox): string {
  if (!mailbox.name) return mailbox.address;
  const name = PLAIN_NAME.test(mailbox.name) ? mailbox.name : `"${mailbox.name.replace(/["\\]/g, "\\$&")}"`;
  return `${name} <${mailbox.address}>`;
}

/** Normalises a mailbox the caller already validated; returns the input unchanged if it does not parse. */
export function normaliseMailbox(text: string): string {
  const parsed = parseMailbox(text);
  return parsed ? formatMailbox(parsed) : text;
}
