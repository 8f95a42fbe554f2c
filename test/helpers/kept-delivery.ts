import { env } from "cloudflare:test";
import { expect } from "vitest";
import { eventually, type World } from "./world";

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

/**
 * A delivery answered as taken (`accepted: 1`) whose payload was read after the answer and kept as
 * a dead letter then: its row (the newest, or the first whose reason matches) and its detail.
 */
export async function keptAfterAnswer(world: World, json: any, reason?: RegExp) {
  expect(json).toMatchObject({ ok: true, accepted: 1 });
  expect(json.kept).toBeUndefined();
  const row = await eventually(async () => {
    const rows = (await world.api("/dead-letters")).body.deadLetters as any[];
    return reason ? rows.find((r) => reason.test(r.reason)) : rows[0];
  }, "the kept delivery");
  const detail = (await world.api(`/dead-letters/${row.id}`)).body;
  return { deadLetterId: row.id as number, code: detail.body.code as string, reason: row.reason as string, detail };
}
