import { OpenAPIHono, z } from "@hono/zod-openapi";
import { OrderlyError } from "../../../domain/errors";

/** Context of an authenticated API call: the tenant its token belongs to. */
export interface ApiEnv {
  Bindings: Env;
  Variables: { tenantId: string };
}

/** The query of a keyset-paged listing (src/db/cursor.ts). */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().openapi({ description: "`nextCursor` of the previous page" }),
});

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi("Error");

export const errorResponses = {
  400: {
    description: "The request is invalid; the message says what to fix.",
    content: { "application/json": { schema: errorSchema } },
  },
  401: { description: "Missing or unknown API token.", content: { "application/json": { schema: errorSchema } } },
  404: { description: "Not found in this tenant.", content: { "application/json": { schema: errorSchema } } },
} as const;

/** A sub-app whose validation failures answer in the API's one error shape. */
export function apiRouter() {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
        throw new OrderlyError(`Invalid request: ${issues.join("; ")}`, {
          errorClass: "validation",
          code: "request_invalid",
          details: result.error.issues,
        });
      }
    },
  });
}

export function notFound(what: string, id: string): OrderlyError {
  return new OrderlyError(`${what} ${id} was not found in this tenant.`, { errorClass: "not_found", code: "not_found" });
}
