import { env } from "cloudflare:test";
import { expect } from "vitest";
import { eventually } from "./world";

/** The newest kept delivery of a connection, by id (0 when none). */
async function newestKept(connectionId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT max(id) AS id FROM dead_letters WHERE json_extract(body, '$.kind') = 'refused_delivery' AND json_extract(body, '$.connectionId') = ?",
  )
    .bind(connectionId)
    .first<{ id: number | null }>();
  return row?.id ?? 0;
}

/**
 * Sends a delivery Orderly keeps and answers its dead letter's id: the answer names it when it was
 * kept before the answer; one whose payload is read after the answer (a source that can route it)
 * is answered `accepted: 1` and kept a moment later, so its row is waited for.
 */
export async function keptDelivery(connectionId: string, send: () => Promise<Response>): Promise<number> {
  const before = await newestKept(connectionId);
  const res = await send();
  const json = (await res.json()) as { kept?: { deadLetterId: number }; accepted?: number };
  expect(res.status, JSON.stringify(json)).toBe(200);
  if (json.kept) return json.kept.deadLetterId;
  expect(json, "kept before or after the answer").toMatchObject({ accepted: 1 });
  return eventually(async () => {
    const newest = await newestKept(connectionId);
    return newest > before ? newest : undefined;
  }, "the delivery kept after the answer");
}
