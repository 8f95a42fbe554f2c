/** The Hono app: webhooks, the JSON API with its OpenAPI document, the settings UI, and one error handler. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { OrderlyError } from "../domain/errors";
import { STATIC_FILES, staticResponse } from "../ui/static-files";
import type { ApiEnv } from "./routes/api/api-env";
import { requireApiToken } from "./routes/api/auth";
import { connectionRoutes } from "./routes/api/connections";
import { connectorRoutes } from "./routes/api/connectors";
import { deadLetterRoutes } from "./routes/api/dead-letters";
import { fileRoutes } from "./routes/api/files";
import { flowRoutes } from "./routes/api/flows";
import { ledgerRoutes } from "./routes/api/ledger";
import { mailRoutes } from "./routes/api/mail";
import { setupRoutes } from "./routes/api/setup";
import { tenantRoutes } from "./routes/api/tenant";
import { transferRoutes } from "./routes/api/transfers";
import { unplannedOrderRoutes } from "./routes/api/unplanned-orders";
import { dev } from "./routes/dev";
import { hooks } from "./routes/hooks";
import { uiRoutes } from "./routes/ui";

/** Where the JSON API is mounted, and where under it its OpenAPI document is served. */
const API_BASE = "/api/v1";
const SPEC_PATH = "/openapi.json";

export function createApp() {
  const api = new OpenAPIHono<ApiEnv>();
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "API token (oly_…)",
  });
  api.doc31(SPEC_PATH, {
    openapi: "3.1.0",
    info: { title: "Orderly API", version: "1", description: "Connections, flows, the transfer log and retries." },
    security: [{ bearer: [] }],
  });
  // API bodies are settings and orders, never files: a megabyte is plenty and keeps memory bounded.
  api.use(
    "*",
    bodyLimit({
      maxSize: 1024 * 1024,
      onError: () => {
        throw new OrderlyError("The request body is larger than 1 MiB, the most the API accepts.", {
          errorClass: "too_large",
          code: "body_too_large",
        });
      },
    }),
  );
  // Only the document itself is public; any other path (even one ending in openapi.json) needs a token.
  api.use("*", async (c, next) => (c.req.path === `${API_BASE}${SPEC_PATH}` ? next() : requireApiToken(c, next)));
  api.route("/connectors", connectorRoutes);
  api.route("/connections", connectionRoutes);
  api.route("/flows", flowRoutes);
  api.route("/transfers", transferRoutes);
  api.route("/dead-letters", deadLetterRoutes);
  api.route("/unplanned-orders", unplannedOrderRoutes);
  api.route("/ledger", ledgerRoutes);
  api.route("/files", fileRoutes);
  api.route("/mail", mailRoutes);
  api.route("/tenant", tenantRoutes);
  api.route("/setup", setupRoutes);

  const app = new OpenAPIHono<{ Bindings: Env }>();
  app.get("/health", (c) => c.json({ ok: true }));
  app.route("/hooks", hooks);
  app.route("/dev", dev);
  app.route(API_BASE, api);
  for (const [path, file] of Object.entries(STATIC_FILES)) app.get(path, (c) => staticResponse(file, c.req.raw));
  // The settings UI takes every other path.
  app.all("*", (c, next) => (MACHINE_PATHS.test(c.req.path) ? next() : uiRoutes.fetch(c.req.raw, c.env, executionContext(c))));
  app.notFound((c) =>
    c.json({ error: { code: "route_not_found", message: `No route for ${c.req.method} ${c.req.path}.` } }, 404),
  );
  app.onError(errorResponse);
  return app;
}

/** Paths of the machine interfaces: these answer JSON, never the UI. */
const MACHINE_PATHS = /^\/(api|hooks|dev)(\/|$)|^\/health$/;

function executionContext(c: Context): ExecutionContext | undefined {
  try {
    return c.executionCtx as ExecutionContext;
  } catch {
    return undefined;
  }
}

/** Every error leaves as the same JSON shape; internal detail goes to the log, never to the caller. */
export function errorResponse(error: Error, c: Context): Response {
  if (error instanceof OrderlyError) {
    if (error.status >= 500) console.error(error.code, error.message, error.internal ?? "");
    return c.json(error.toJSON(), error.status as 400);
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    const message = status === 400 ? "The request body is not valid JSON." : error.message || "Request rejected.";
    return c.json({ error: { code: status === 400 ? "body_malformed" : "http_error", message } }, status);
  }
  console.error("unhandled", error);
  // 503, not 500: the sender should retry, and nothing was accepted.
  return c.json(
    { error: { code: "temporarily_unavailable", message: "Orderly could not handle this request; please retry." } },
    503,
  );
}
