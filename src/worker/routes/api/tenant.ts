/** /api/v1/tenant: who gets alerts, which mail provider sends them, how long history is kept. */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { database } from "../../../db/client";
import { tenants } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import { mailConnectionProblem } from "../../../mail/mail-connection";
import { MAX_SILENCE_HOURS } from "../../../notifications/silence";
import { apiRouter, errorResponses, notFound } from "./api-env";
import { findOwned } from "./connections";

const tenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    alertEmails: z.array(z.string()),
    mailConnectionId: z.string().nullable(),
    retentionDays: z.number(),
    reportSchedule: z.enum(["off", "daily", "weekly"]),
    silenceHours: z.number().nullable(),
  })
  .openapi("Tenant");

const updateSchema = z
  .object({
    name: z.string().min(1).max(120),
    alertEmails: z.array(z.email()).max(20),
    mailConnectionId: z.string().nullable().openapi({ description: "A Resend or Postmark connection; null for the dev outbox" }),
    retentionDays: z.number().int().min(7).max(3650).openapi({ description: "Days the transfer log is kept (at least 7)" }),
    reportSchedule: z.enum(["off", "daily", "weekly"]).openapi({ description: "Status report by email" }),
    silenceHours: z
      .number()
      .int()
      .min(1)
      .max(MAX_SILENCE_HOURS)
      .nullable()
      .openapi({ description: "Alert when a source that normally sends has sent nothing for this many hours; null: off" }),
  })
  .partial()
  .openapi("TenantUpdate");

async function load(env: Env, id: string) {
  const row = await database(env).select().from(tenants).where(eq(tenants.id, id)).get();
  if (!row) throw notFound("Tenant", id);
  return {
    id: row.id,
    name: row.name,
    alertEmails: row.alertEmails,
    mailConnectionId: row.mailConnectionId,
    retentionDays: row.retentionDays,
    reportSchedule: row.reportSchedule,
    silenceHours: row.silenceHours,
  };
}

export const tenantRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "The tenant of the token",
      responses: {
        200: { description: "Tenant settings", content: { "application/json": { schema: tenantSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => c.json(await load(c.env, c.var.tenantId), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/",
      summary: "Change alert recipients, mail provider or retention",
      request: { body: { content: { "application/json": { schema: updateSchema } }, required: true } },
      responses: {
        200: { description: "Updated", content: { "application/json": { schema: tenantSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      if (input.mailConnectionId) {
        const problem = mailConnectionProblem(await findOwned(c.env, c.var.tenantId, input.mailConnectionId));
        if (problem) throw new OrderlyError(problem, { errorClass: "validation", code: "mail_connection_invalid" });
      }
      await database(c.env).update(tenants).set(input).where(eq(tenants.id, c.var.tenantId));
      return c.json(await load(c.env, c.var.tenantId), 200);
    },
  );
