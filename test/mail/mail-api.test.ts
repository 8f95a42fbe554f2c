/**
 * The mail API, mounted here on a small app with a stand-in for the token middleware (the lead
 * mounts `mailRoutes` at /api/v1/mail in src/worker/app.ts behind the real one).
 */
import { env } from "cloudflare:test";
import { OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { sendMail } from "../../src/mail/send-mail";
import { errorResponse } from "../../src/worker/app";
import type { ApiEnv } from "../../src/worker/routes/api/api-env";
import { mailRoutes } from "../../src/worker/routes/api/mail";
import { createTenant, pdfBytes } from "./mail-helpers";

function api() {
  const app = new OpenAPIHono<ApiEnv>();
  app.use("*", async (c, next) => {
    c.set("tenantId", c.req.header("x-test-tenant") ?? "");
    await next();
  });
  app.route("/mail", mailRoutes);
  app.onError(errorResponse);
  return async <T = any>(tenantId: string, path: string): Promise<{ status: number; body: T }> => {
    const res = await app.request(`/mail${path}`, { headers: { "x-test-tenant": tenantId } }, env);
    return { status: res.status, body: (await res.json()) as T };
  };
}

async function sendSome(tenantId: string, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { id } = await sendMail(env, {
      tenantId,
      idempotencyKey: `${prefix}/${i}`,
      email: {
        to: ["ane@example.dk"],
        subject: `${prefix} ${i}`,
        text: `text ${i}`,
        html: `<p>html ${i}</p>`,
        attachments: [{ filename: "invoice.pdf", contentType: "application/pdf", content: pdfBytes() }],
      },
    });
    ids.push(id);
    await new Promise((r) => setTimeout(r, 2)); // distinct createdAt, so "newest first" is observable
  }
  return ids;
}

describe("the mail outbox API", () => {
  it("lists only the tenant's own emails, newest first, without bodies", async () => {
    const call = api();
    const mine = await createTenant();
    const theirs = await createTenant();
    const ids = await sendSome(mine, 2, "mine");
    await sendSome(theirs, 1, "theirs");

    const { status, body } = await call(mine, "/outbox");
    expect(status).toBe(200);
    expect(body.emails.map((e: { id: string }) => e.id)).toEqual([ids[1], ids[0]]);
    expect(body.nextCursor).toBeNull();
    const first = body.emails[0];
    expect(first).toMatchObject({
      provider: "dev",
      to: ["ane@example.dk"],
      subject: "mine 1",
      status: "sent",
      attachments: [{ filename: "invoice.pdf", contentType: "application/pdf", size: pdfBytes().byteLength }],
    });
    expect(first).not.toHaveProperty("text");
    expect(first).not.toHaveProperty("html");
    expect(JSON.stringify(body)).not.toContain("blobKey");
    expect(JSON.stringify(body)).not.toContain("theirs");
  });

  it("shows one email with its text, html and attachment list, and hides other tenants' emails", async () => {
    const call = api();
    const mine = await createTenant();
    const theirs = await createTenant();
    const [id] = await sendSome(mine, 1, "detail");

    const { status, body } = await call(mine, `/outbox/${id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id,
      subject: "detail 0",
      text: "text 0",
      html: "<p>html 0</p>",
      attachments: [{ filename: "invoice.pdf" }],
    });

    const hidden = await call(theirs, `/outbox/${id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe("not_found");
  });

  it("pages with a cursor and refuses a cursor it never gave out", async () => {
    const call = api();
    const tenantId = await createTenant();
    const ids = await sendSome(tenantId, 3, "page");
    const one = await call(tenantId, "/outbox?limit=2");
    expect(one.body.emails.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
    const two = await call(tenantId, `/outbox?limit=2&cursor=${encodeURIComponent(one.body.nextCursor)}`);
    expect(two.body.emails.map((e: { id: string }) => e.id)).toEqual([ids[0]]);
    expect(two.body.nextCursor).toBeNull();
    const bad = await call(tenantId, "/outbox?cursor=nonsense");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("cursor_invalid");
  });
});
