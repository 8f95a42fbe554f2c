/**
 * /api/v1/files: the files `exportFile` steps wrote (pick lists, order lines), for a warehouse or
 * 3PL polling with an API token. Listed from R2 by the tenant's prefix (newest order first, R2's
 * cursor for the next page); a download is the file's bytes. Every key is checked against the
 * token's tenant in connectors/files/files.store.ts: another tenant's is 404, a malformed one 400.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { checkedKey, downloadHeaders, listFiles, readFile } from "../../../connectors/files/files.store";
import { apiRouter, errorResponses } from "./api-env";

const fileSchema = z
  .object({
    key: z.string().openapi({ description: "Pass it, URL-encoded (slashes as %2F), to GET /files/{key}" }),
    filename: z.string().openapi({ description: "The name to save it under" }),
    connectionId: z.string(),
    orderId: z.string(),
    orderNumber: z.string(),
    stage: z.string().openapi({ description: "The order's stage when the file was written" }),
    layout: z.string().openapi({ description: "pickList or orderLines" }),
    format: z.string().openapi({ description: "csv or xml" }),
    rows: z.number(),
    size: z.number().openapi({ description: "Bytes" }),
    uploadedAt: z.string().openapi({ description: "When it was written (ISO 8601, UTC)" }),
    transferId: z.string().nullable().openapi({ description: "The transfer whose step wrote it" }),
    expiredAt: z.string().nullable().openapi({
      description:
        "When it was deleted after the shop's log retention (ISO 8601, UTC): its record stays, its download answers 404 file_expired. Null while it can be downloaded.",
    }),
  })
  .openapi("ExportedFile");

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(1024).optional().openapi({ description: "`nextCursor` of the previous page (same connectionId)" }),
  connectionId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "is a connection id such as con_…")
    .optional()
    .openapi({ description: "Only this files connection's files" }),
});

export const fileRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "Files written by exportFile steps (pick lists, order lines), newest order first within each connection",
      request: { query: listQuery },
      responses: {
        200: {
          description: "A page of files; fetch the next with nextCursor until it is null",
          content: {
            "application/json": { schema: z.object({ files: z.array(fileSchema), nextCursor: z.string().nullable() }) },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listFiles(c.env, c.var.tenantId, { connectionId: q.connectionId, cursor: q.cursor, limit: q.limit });
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{key}",
      summary: "Download one file: its bytes as text/csv or application/xml (404 file_expired once deleted after the retention)",
      request: {
        params: z.object({
          key: z
            .string()
            .openapi({ description: "The file's key from the listing, URL-encoded (files%2Ften_…%2Fcon_…%2F….csv)" }),
        }),
      },
      responses: {
        200: {
          description: "The file",
          content: {
            "text/csv": { schema: z.string() },
            "application/xml": { schema: z.string() },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const key = checkedKey(c.var.tenantId, c.req.valid("param").key);
      const { file, object } = await readFile(c.env, c.var.tenantId, key);
      return new Response(object.body, { status: 200, headers: downloadHeaders(file) });
    },
  );
