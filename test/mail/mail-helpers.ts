/**
 * Tenants and mail connections written straight into D1 (the Resend and Postmark connectors are
 * not in the registry yet, so the connections API would refuse them), plus outbox lookups.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { expect } from "vitest";
import { database } from "../../src/db/client";
import { encryptJson } from "../../src/db/credentials";
import { connections, mailOutbox, tenants } from "../../src/db/schema";
import { OrderlyError } from "../../src/domain/errors";

export async function createTenant(): Promise<string> {
  const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env)
    .insert(tenants)
    .values({ id: tenantId, name: `Mail ${tenantId}` });
  return tenantId;
}

export async function createConnection(
  tenantId: string,
  connector: string,
  settings: Record<string, unknown>,
  credentials: Record<string, unknown>,
  enabled = true,
): Promise<string> {
  const id = `con_${crypto.randomUUID().slice(0, 8)}`;
  await database(env)
    .insert(connections)
    .values({
      id,
      tenantId,
      connector,
      name: `${connector} mail`,
      settings,
      credentials: await encryptJson(env, credentials),
      enabled,
    });
  return id;
}

export async function outboxRow(tenantId: string, idempotencyKey: string) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, idempotencyKey)))
    .get();
}

/** A small PDF whose body carries every byte value, so any base64 or text-decoding slip shows. */
export function pdfBytes(): Uint8Array {
  const head = new TextEncoder().encode("%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj << /Type /Catalog >> endobj\n");
  const every = Uint8Array.from({ length: 256 }, (_, i) => i);
  const out = new Uint8Array(head.length + every.length + 6);
  out.set(head, 0);
  out.set(every, head.length);
  out.set(new TextEncoder().encode("%%EOF\n"), head.length + every.length);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Awaits a promise that must reject with an OrderlyError and returns it. */
export async function rejection(promise: Promise<unknown>): Promise<OrderlyError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OrderlyError);
    return error as OrderlyError;
  }
  throw new Error("expected the promise to reject");
}
