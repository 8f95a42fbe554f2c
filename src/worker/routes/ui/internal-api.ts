/**
 * The UI changes connections, flows and transfers through the JSON API's own handlers, called
 * in-process, so a form and an API call are validated and applied by exactly the same code. The
 * tenant is attached to the Request object itself (never a header), so nothing outside can set it.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { errorResponse } from "../../app";
import type { ApiEnv } from "../api/api-env";
import { connectionRoutes } from "../api/connections";
import { flowRoutes } from "../api/flows";
import { transferRoutes } from "../api/transfers";

const tenantOf = new WeakMap<Request, string>();

const internal = new OpenAPIHono<ApiEnv>();
internal.use("*", async (c, next) => {
  const tenantId = tenantOf.get(c.req.raw);
  if (!tenantId) return c.json({ error: { code: "internal_only", message: "Not callable from outside." } }, 404);
  c.set("tenantId", tenantId);
  await next();
});
internal.route("/connections", connectionRoutes);
internal.route("/flows", flowRoutes);
internal.route("/transfers", transferRoutes);
internal.onError(errorResponse);

export interface ApiResult<T> {
  ok: boolean;
  status: number;
  body: T;
  /** The API's error message, written for a person, when not ok. */
  error?: string;
}

/** Calls `/api/v1<path>` as the session's tenant. */
export async function callApi<T = Record<string, unknown>>(
  c: Context,
  tenantId: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  const origin = new URL(c.req.url).origin;
  const request = new Request(`${origin}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  tenantOf.set(request, tenantId);
  let ctx: Parameters<typeof internal.fetch>[2];
  try {
    ctx = c.executionCtx as typeof ctx;
  } catch {
    ctx = undefined;
  }
  const res = await internal.fetch(request, c.env, ctx);
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as T & { error?: { message?: string } }) : (null as T);
  const error = res.ok
    ? undefined
    : ((parsed as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${res.status}`);
  return { ok: res.ok, status: res.status, body: parsed, ...(error ? { error } : {}) };
}
