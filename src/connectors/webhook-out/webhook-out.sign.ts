/**
 * The signature a receiver checks: HMAC-SHA256 with the connection's signing secret over
 * `<timestamp>.<body>`, in lowercase hex. The timestamp (Unix seconds) is signed too, so a receiver
 * that refuses old timestamps refuses a captured request replayed later; each attempt signs anew.
 */
import { hmacSha256, toHex } from "../signatures";

export const SIGNATURE_HEADER = "x-orderly-signature";
export const TIMESTAMP_HEADER = "x-orderly-timestamp";
export const EVENT_HEADER = "x-orderly-event";

/** The headers that sign `body` (the exact text sent) at `nowMs`. */
export async function signatureHeaders(secret: string, body: string, nowMs = Date.now()): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const signature = toHex(await hmacSha256(secret, `${timestamp}.${body}`));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature };
}
