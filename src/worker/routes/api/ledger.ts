/** /api/v1/ledger/invoices: the sandbox ledger's books, to see what a flow booked. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, type SQL } from "drizzle-orm";
import { database } from "../../../db/client";
import { ledgerCustomers, ledgerInvoices } from "../../../db/schema";
import { apiRouter, errorResponses, notFound } from "./api-env";

const invoiceSchema = z
  .object({
    id: z.number(),
    connectionId: z.string(),
    reference: z.string(),
    orderNumber: z.string().nullable(),
    state: z.enum(["draft", "booked"]),
    type: z.enum(["invoice", "credit-note"]),
    creditedInvoiceId: z.number().nullable(),
    currency: z.string(),
    vatCase: z.string().nullable(),
    customer: z.object({ id: z.number(), name: z.string(), email: z.string().nullable(), country: z.string().nullable() }),
    lines: z.array(
      z.object({
        kind: z.string(),
        description: z.string(),
        sku: z.string().optional(),
        quantity: z.number(),
        unitNet: z.number(),
        net: z.number(),
        vatRateBp: z.number(),
        vat: z.number(),
      }),
    ),
    net: z.number(),
    vat: z.number(),
    total: z.number(),
    paid: z.number().openapi({ description: "Registered payments, minor units" }),
    createdAt: z.number(),
  })
  .openapi("LedgerInvoice");

async function listInvoices(env: Env, where: SQL | undefined, limit: number) {
  return database(env)
    .select({ invoice: ledgerInvoices, customer: ledgerCustomers })
    .from(ledgerInvoices)
    .innerJoin(ledgerCustomers, eq(ledgerCustomers.id, ledgerInvoices.customerId))
    .where(where)
    .orderBy(desc(ledgerInvoices.id))
    .limit(limit);
}

function view(row: Awaited<ReturnType<typeof listInvoices>>[number]): z.infer<typeof invoiceSchema> {
  const { invoice, customer } = row;
  return {
    id: invoice.id,
    connectionId: invoice.connectionId,
    reference: invoice.reference,
    orderNumber: invoice.orderNumber,
    state: invoice.state,
    type: invoice.type,
    creditedInvoiceId: invoice.creditedInvoiceId,
    currency: invoice.currency,
    vatCase: invoice.vatCase,
    customer: { id: customer.id, name: customer.name, email: customer.email, country: customer.country },
    lines: invoice.lines,
    net: invoice.net,
    vat: invoice.vat,
    total: invoice.total,
    paid: invoice.paid,
    createdAt: invoice.createdAt,
  };
}

export const ledgerRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/invoices",
      summary: "Invoices booked in the sandbox ledger, newest first",
      request: {
        query: z.object({ connection: z.string().optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
      responses: {
        200: {
          description: "Invoices",
          content: { "application/json": { schema: z.object({ invoices: z.array(invoiceSchema) }) } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const where = and(
        eq(ledgerInvoices.tenantId, c.var.tenantId),
        q.connection ? eq(ledgerInvoices.connectionId, q.connection) : undefined,
      );
      return c.json({ invoices: (await listInvoices(c.env, where, q.limit)).map(view) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/invoices/{id}",
      summary: "One sandbox ledger invoice",
      request: { params: z.object({ id: z.coerce.number().int() }) },
      responses: {
        200: { description: "The invoice", content: { "application/json": { schema: invoiceSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const [row] = await listInvoices(c.env, and(eq(ledgerInvoices.tenantId, c.var.tenantId), eq(ledgerInvoices.id, id)), 1);
      if (!row) throw notFound("Invoice", String(id));
      return c.json(view(row), 200);
    },
  );
