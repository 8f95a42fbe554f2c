/**
 * Connection credentials and webhook secrets are encrypted at rest with AES-GCM under a key from
 * the CREDENTIALS_KEY secret. The secret may hold several keys, `id:base64,id:base64`, newest
 * first: new ciphertexts use the first, old ones still decrypt while their key is listed.
 * A bare base64 key is taken as key id "k1".
 */

import { fromBase64, toBase64 } from "../connectors/signatures";
import { OrderlyError } from "../domain/errors";

interface Keyring {
  current: { id: string; key: CryptoKey };
  byId: Map<string, CryptoKey>;
}

const keyrings = new Map<string, Promise<Keyring>>();

function keyring(secret: string | undefined): Promise<Keyring> {
  if (!secret) {
    throw new OrderlyError("CREDENTIALS_KEY is not configured; connection credentials cannot be encrypted.", {
      errorClass: "internal",
      code: "credentials_key_missing",
    });
  }
  let ring = keyrings.get(secret);
  if (!ring) {
    ring = importKeyring(secret);
    keyrings.set(secret, ring);
  }
  return ring;
}

async function importKeyring(secret: string): Promise<Keyring> {
  const parts = secret.split(",").map((part) => part.trim());
  const entries = parts.map((part, index) => {
    // A bare key (no `id:`) is only allowed alone; with several keys every one needs its id.
    if (!part.includes(":") && parts.length > 1) {
      throw new OrderlyError("CREDENTIALS_KEY lists several keys; write each as id:base64.", {
        errorClass: "internal",
        code: "credentials_key_invalid",
      });
    }
    const [id, material] = part.includes(":")
      ? (part.split(":", 2).map((x) => x.trim()) as [string, string])
      : [`k${index + 1}`, part];
    const bytes = fromBase64(material);
    if (bytes?.byteLength !== 32) {
      throw new OrderlyError(`CREDENTIALS_KEY entry "${id}" must be 32 bytes in base64.`, {
        errorClass: "internal",
        code: "credentials_key_invalid",
      });
    }
    return { id, bytes };
  });
  const byId = new Map<string, CryptoKey>();
  for (const { id, bytes } of entries) {
    if (byId.has(id))
      throw new OrderlyError(`CREDENTIALS_KEY names key "${id}" twice.`, {
        errorClass: "internal",
        code: "credentials_key_invalid",
      });
    byId.set(id, await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  const first = entries[0]!;
  return { current: { id: first.id, key: byId.get(first.id)! }, byId };
}

export async function encryptSecret(env: Pick<Env, "CREDENTIALS_KEY">, plaintext: string): Promise<string> {
  const ring = await keyring(env.CREDENTIALS_KEY);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, ring.current.key, new TextEncoder().encode(plaintext));
  return `${ring.current.id}.${toBase64(iv)}.${toBase64(new Uint8Array(data))}`;
}

/** What a key id looks like (`id.iv.data`); only such an id is named when no key has it. */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export async function decryptSecret(env: Pick<Env, "CREDENTIALS_KEY">, sealed: string): Promise<string> {
  const ring = await keyring(env.CREDENTIALS_KEY);
  const [id, ivText, dataText] = sealed.split(".");
  // A value stored unsealed (a hand-written UPDATE) has no key id: what stands in its place is
  // the secret itself, which must not reach the page, the API or an error message.
  const key = id && ivText !== undefined && dataText !== undefined ? ring.byId.get(id) : undefined;
  if (!key && (ivText === undefined || dataText === undefined || !KEY_ID.test(id ?? ""))) throw damaged();
  if (!key) {
    throw new OrderlyError(`Stored credentials use key "${id}", which is not in CREDENTIALS_KEY.`, {
      errorClass: "internal",
      code: "credentials_key_unknown",
    });
  }
  const iv = ivText ? fromBase64(ivText) : null;
  const data = dataText ? fromBase64(dataText) : null;
  if (!iv || !data) throw damaged();
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, data);
    return new TextDecoder().decode(plain);
  } catch (cause) {
    // AES-GCM cannot tell a wrong key from a damaged value: both fail its authentication tag.
    throw new OrderlyError(
      `The stored value does not open with key "${id}" of CREDENTIALS_KEY: that key was replaced instead of a new one added in front of it, or the stored value was damaged.`,
      { errorClass: "internal", code: "credentials_unreadable", internal: String(cause), cause },
    );
  }
}

function damaged(): OrderlyError {
  return new OrderlyError("The stored value is damaged: it is not in the form Orderly seals values in.", {
    errorClass: "internal",
    code: "credentials_damaged",
  });
}

/**
 * The codes of a stored value that cannot be opened under today's CREDENTIALS_KEY, as opposed to a
 * key that is missing or malformed (every connection fails alike; the operator fixes the secret).
 * Such a value is lost for good: the only way out is to enter it again.
 */
const UNREADABLE_CODES: ReadonlySet<string> = new Set([
  "credentials_key_unknown",
  "credentials_unreadable",
  "credentials_damaged",
]);

/** True when `error` says one stored value cannot be opened (see UNREADABLE_CODES). */
export function isUnreadableSecret(error: unknown): error is OrderlyError {
  return error instanceof OrderlyError && UNREADABLE_CODES.has(error.code);
}

export async function encryptJson(env: Pick<Env, "CREDENTIALS_KEY">, value: unknown): Promise<string> {
  return encryptSecret(env, JSON.stringify(value));
}

export async function decryptJson<T>(env: Pick<Env, "CREDENTIALS_KEY">, sealed: string): Promise<T> {
  const text = await decryptSecret(env, sealed);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw damaged();
  }
}
