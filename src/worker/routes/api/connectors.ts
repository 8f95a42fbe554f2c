/** /api/v1/connectors: what can be connected, with settings and credentials as JSON Schema. */
import { createRoute, z } from "@hono/zod-openapi";
import { listConnectors } from "../../../connectors/registry";
import { apiRouter } from "./api-env";

export const connectorRoutes = apiRouter().openapi(
  createRoute({
    method: "get",
    path: "/",
    summary: "Connectors and the settings each one takes",
    responses: {
      200: {
        description: "Connectors",
        content: { "application/json": { schema: z.object({ connectors: z.array(z.record(z.string(), z.unknown())) }) } },
      },
    },
  }),
  (c) =>
    c.json(
      {
        connectors: listConnectors().map((connector) => ({
          id: connector.id,
          name: connector.name,
          category: connector.category,
          source: Boolean(connector.source),
          settings: z.toJSONSchema(connector.settings, { io: "input" }),
          credentials: z.toJSONSchema(connector.credentials, { io: "input" }),
          actions: Object.fromEntries(
            Object.entries(connector.actions ?? {}).map(([name, action]) => [
              name,
              { description: action.description, settings: z.toJSONSchema(action.settings, { io: "input" }) },
            ]),
          ),
        })),
      },
      200,
    ),
);
