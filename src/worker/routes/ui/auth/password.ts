/**
 * Password hashing for UI sign-in: PBKDF2-SHA256 through WebCrypto with a random 16-byte salt per
 * user, stored as `pbkdf2$<iterations>$<salt b64>$<hash b64>`. 100,000 iterations is the most
 * Workers' WebCrypto allows; the count is stored so it can be raised later without a migration.
 */
import { fromBase64, timingSafeEqual, toBase64 } from "../../../../connectors/signatures";

export const PBKDF2_ITERATIONS = 100_000;
export const MIN_PASSWORD_LENGTH = 10;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2$${PBKDF2_ITERATIONS}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** Constant-time check of a password against a stored hash; false for a malformed or missing hash. */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const [scheme, iterText, saltText, hashText] = (stored ?? "").split("$");
  const iterations = Number(iterText);
  const salt = fromBase64(saltText ?? "");
  const expected = fromBase64(hashText ?? "");
  if (
    scheme !== "pbkdf2" ||
    !Number.isInteger(iterations) ||
    iterations < 1 ||
    iterations > PBKDF2_ITERATIONS ||
    !salt ||
    !expected
  ) {
    // Spend the same time as a real check so a missing user is not told apart by timing.
    await derive(password, new Uint8Array(16), PBKDF2_ITERATIONS);
    return false;
  }
  return timingSafeEqual(await derive(password, salt, iterations), expected);
}

/** What is wrong with a new password, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `Use at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > 200) return "Use at most 200 characters.";
  return null;
}
