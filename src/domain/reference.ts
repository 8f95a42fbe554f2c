/**
 * Stable identities derived from what a transfer is, so that a retried, re-sent or re-run step
 * always carries the same reference and the target can adopt the record it made before.
 */

/** Transfer id: a hash of (source connection, order, flow, stage, occurrence). */
export async function transferId(
  connectionId: string,
  orderId: string,
  flowId: string,
  stage: string,
  occurrence: string,
): Promise<string> {
  // Length-prefixed parts: no choice of ids can make two different tuples hash alike.
  const data = new TextEncoder().encode(
    [connectionId, orderId, flowId, stage, occurrence].map((p) => `${p.length}:${p}`).join("|"),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The reference a target action writes into the record it creates, and looks up before creating. */
export function stepReference(transferId: string, stepIndex: number): string {
  return `orderly-${transferId}-${stepIndex}`;
}
