/**
 * /flows: list, templates, the editor (new and existing), enable/disable, delete, dry run, and
 * the orders that came while no flow was on (run their flows, chosen or all; dismiss chosen ones).
 */
import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { getConnector } from "../../../connectors/registry";
import { database } from "../../../db/client";
import { connections, flows } from "../../../db/schema";
import { dismissUnplanned, unplannedCounts, unplannedKey, unplannedOfConnection } from "../../../db/unplanned-orders";
import { STAGES } from "../../../domain/stage";
import { FlowDryRunPage } from "../../../ui/pages/flow-dry-run";
import { FlowEditorPage } from "../../../ui/pages/flow-editor";
import { FlowsPage, type UnplannedNotice } from "../../../ui/pages/flows";
import { RUN_BATCH, type RunResult, runUnplanned, stagesOf } from "../api/unplanned-orders";
import { audit } from "./audit";
import { dryRun } from "./flows/dry-run";
import { type FilterPreview, type FlowDraft, readFlowForm, stepChoices, stepFields } from "./flows/flow-form";
import { FLOW_TEMPLATES, findTemplate } from "./flows/templates";
import type { FormData } from "./forms/schema-fields";
import { callApi } from "./internal-api";
import { notFoundPage, page, redirectWith } from "./render";
import { canEdit, type UiEnv } from "./ui-env";

export const flowRoutes = new Hono<UiEnv>();
type C = Context<UiEnv>;

async function tenantConnections(c: C) {
  return database(c.env)
    .select()
    .from(connections)
    .where(eq(connections.tenantId, c.var.session.tenantId))
    .orderBy(connections.createdAt);
}

async function ownedFlow(c: C, id: string) {
  return database(c.env)
    .select()
    .from(flows)
    .where(and(eq(flows.id, id), eq(flows.tenantId, c.var.session.tenantId)))
    .get();
}

async function editor(
  c: C,
  draft: FlowDraft,
  opts: {
    flowId?: string;
    errors?: string[];
    note?: string;
    status?: number;
    preview?: FilterPreview;
    mappingErrors?: Record<number, string>;
  } = {},
) {
  const rows = await tenantConnections(c);
  const sources = rows.filter((r) => getConnector(r.connector)?.source).map((r) => ({ value: r.id, label: r.name }));
  return page(
    c,
    { title: opts.flowId ? draft.name : "New flow", active: "flows", status: opts.status ?? 200 },
    <FlowEditorPage
      {...(opts.flowId ? { flowId: opts.flowId } : {})}
      draft={draft}
      sources={sources}
      stages={STAGES}
      choices={stepChoices(rows)}
      stepFields={draft.steps.map((s, i) => stepFields(rows, s, i))}
      csrf={c.var.session.csrfToken}
      errors={opts.errors}
      note={opts.note}
      {...(opts.preview ? { preview: opts.preview } : {})}
      {...(opts.mappingErrors ? { mappingErrors: opts.mappingErrors } : {})}
    />,
  );
}

flowRoutes.get("/", async (c) => {
  const s = c.var.session;
  const [rows, conns, counts] = await Promise.all([
    database(c.env).select().from(flows).where(eq(flows.tenantId, s.tenantId)).orderBy(flows.createdAt),
    tenantConnections(c),
    unplannedCounts(c.env, s.tenantId),
  ]);
  const names = new Map(conns.map((r) => [r.id, r.name]));
  const unplanned: UnplannedNotice[] = await Promise.all(
    [...counts].map(async ([connectionId, count]) => ({
      connectionId,
      connectionName: names.get(connectionId) ?? connectionId,
      count,
      flowOn: rows.some((f) => f.enabled && f.sourceConnectionId === connectionId),
      rows: (await unplannedOfConnection(c.env, s.tenantId, connectionId, RUN_BATCH)).map((r) => ({
        id: unplannedKey(r),
        order: r.orderNumber ?? r.orderId,
        stages: stagesOf(r.stages),
        firstSeenAt: r.firstSeenAt,
      })),
    })),
  );
  return page(
    c,
    { title: "Flows", active: "flows" },
    <FlowsPage
      rows={rows}
      names={names}
      templates={FLOW_TEMPLATES}
      canEdit={canEdit(s.role)}
      csrf={s.csrfToken}
      unplanned={unplanned}
    />,
  );
});

/** What a run did, as the flash says it; ok when every order was run. */
function runSummary(results: RunResult[], remaining: number): { text: string; ok: boolean; tally: Record<string, number> } {
  const tally = { planned: 0, made: 0, no_flow: 0, cancelled: 0, failed: 0, not_found: 0, partly: 0 };
  for (const r of results) {
    tally[r.result]++;
    tally.made += r.made ?? 0;
    if (r.left && r.result !== "no_flow") tally.partly++;
  }
  const parts = [
    `${tally.planned} run (${tally.made} ${tally.made === 1 ? "transfer" : "transfers"} made)`,
    tally.cancelled ? `${tally.cancelled} cancelled in the shop (only the cancellation and refunds run)` : "",
    tally.partly ? `${tally.partly} still listed for stages no flow switched on starts at` : "",
    tally.no_flow ? `${tally.no_flow} with no flow switched on for their stages` : "",
    tally.failed
      ? `${tally.failed} failed (${results.find((r) => r.result === "failed")?.reason ?? "run them again in a moment"})`
      : "",
    tally.not_found ? `${tally.not_found} no longer listed` : "",
  ].filter(Boolean);
  const text =
    results.length === 0
      ? "No order from this source is waiting for its flows."
      : `Flows run for ${results.length} ${results.length === 1 ? "order" : "orders"}: ${parts.join(", ")}.${remaining > 0 ? ` ${remaining} still listed.` : ""}`;
  return { text, ok: tally.planned + tally.cancelled === results.length, tally };
}

/**
 * "Run all": the flows enabled now, for every order listed for a source (oldest first, RUN_BATCH a
 * click), including any booked by hand. Owners and admins only (the UI's POST guard).
 */
flowRoutes.post("/unplanned/run", async (c) => {
  const s = c.var.session;
  const form = z.object({ connectionId: z.string().min(1) }).safeParse(await c.req.parseBody());
  if (!form.success) return redirectWith(c, "/flows", "Choose the source whose orders to run the flows for.", "error");
  const { connectionId } = form.data;
  const { results, remaining } = await runUnplanned(c.env, s.tenantId, { connectionId, limit: RUN_BATCH });
  const { text, ok, tally } = runSummary(results, remaining);
  await audit(c.env, s, "unplanned_orders.run", connectionId, { ...tally, remaining });
  return redirectWith(c, "/flows", text, ok ? "ok" : "error");
});

/** The ticked orders: `ids` (one or many checkboxes) and which button (`op`). */
const chosenForm = z.object({
  op: z.enum(["run", "dismiss"]),
  ids: z.union([z.string().min(3), z.array(z.string().min(3))]).transform((v) => (Array.isArray(v) ? v : [v])),
});

/**
 * The orders ticked on the Flows page: their flows run, or they are dismissed (booked by hand:
 * nothing is run). Owners and admins only (the UI's POST guard).
 */
flowRoutes.post("/unplanned/chosen", async (c) => {
  const s = c.var.session;
  const form = chosenForm.safeParse(await c.req.parseBody({ all: true }));
  if (!form.success) return redirectWith(c, "/flows", "Tick the orders first, then run or dismiss them.", "error");
  const ids = [...new Set(form.data.ids)].slice(0, RUN_BATCH);
  if (form.data.op === "dismiss") {
    const dismissed = await dismissUnplanned(c.env, s.tenantId, { keys: ids });
    await audit(c.env, s, "unplanned_orders.dismiss", null, { ids: dismissed });
    const text = `${dismissed.length} ${dismissed.length === 1 ? "order" : "orders"} dismissed; nothing was run for ${dismissed.length === 1 ? "it" : "them"}.`;
    return redirectWith(c, "/flows", text, "ok");
  }
  const { results } = await runUnplanned(c.env, s.tenantId, { ids });
  const { text, ok, tally } = runSummary(results, 0);
  await audit(c.env, s, "unplanned_orders.run", null, { ids, ...tally });
  return redirectWith(c, "/flows", text, ok ? "ok" : "error");
});

flowRoutes.get("/new", async (c) => {
  const template = findTemplate(c.req.query("template"));
  const rows = await tenantConnections(c);
  const first = (connector: string) => rows.find((r) => r.connector === connector)?.id ?? "";
  const firstSource = rows.find((r) => getConnector(r.connector)?.source)?.id ?? "";
  if (!template) return editor(c, { name: "", source: firstSource, stage: "paid", filter: "", enabled: true, steps: [] });
  const missing = [template.sourceConnector, ...template.steps.map((s) => s.connector)].filter((id) => !first(id));
  const draft: FlowDraft = {
    name: template.name,
    source: first(template.sourceConnector) || firstSource,
    stage: template.stage,
    filter: "",
    enabled: true,
    steps: template.steps
      .filter((s) => first(s.connector))
      .map((s) => ({ target: first(s.connector), action: s.action, settings: s.settings })),
  };
  const names = [...new Set(missing)].map((id) => getConnector(id)?.name ?? id);
  const note =
    names.length > 0
      ? `Template “${template.name}” needs a connection to ${names.join(" and ")}; add it under Connections, then come back.`
      : `Pre-filled from the template “${template.name}”. Check the settings, then save.`;
  return editor(c, draft, { note });
});

async function submit(c: C, flowId?: string) {
  const s = c.var.session;
  const form = (await c.req.parseBody({ all: true })) as FormData;
  const rows = await tenantConnections(c);
  const errors: string[] = [];
  const draft = readFlowForm(form, rows, errors);
  const op = typeof form._op === "string" ? form._op : "save";
  if (op === "add")
    return editor(
      c,
      { ...draft, steps: [...draft.steps, { target: "", action: "", settings: {} }] },
      { ...(flowId ? { flowId } : {}) },
    );
  if (op === "refresh") return editor(c, draft, { ...(flowId ? { flowId } : {}) });
  if (op === "preview") return previewFilter(c, draft, form, flowId);
  const body = {
    name: draft.name,
    source: draft.source,
    stage: draft.stage,
    filter: draft.filter || null,
    enabled: draft.enabled,
    steps: draft.steps,
  };
  const result =
    errors.length > 0
      ? null
      : await callApi<{ id: string }>(
          c,
          s.tenantId,
          flowId ? "PATCH" : "POST",
          flowId ? `/flows/${encodeURIComponent(flowId)}` : "/flows",
          body,
        );
  if (result?.status === 404 && flowId) return notFoundPage(c);
  if (!result?.ok)
    return editor(c, draft, {
      ...(flowId ? { flowId } : {}),
      errors: result?.error ? [result.error] : errors,
      ...mappingError(result?.body),
      // 409: another enabled flow already runs one of its steps (the message names it).
      status: result?.status === 409 ? 409 : 400,
    });
  await audit(c.env, s, flowId ? "flow.update" : "flow.create", result.body.id, body);
  return redirectWith(c, `/flows/${result.body.id}`, "Flow saved.");
}

/** A step's mapping the API refused, to show beside that step (its message names the step too, at the top). */
function mappingError(body: unknown): { mappingErrors?: Record<number, string> } {
  const error = (body as { error?: { code?: string; message?: string; details?: { step?: unknown } } } | null)?.error;
  const step = error?.details?.step;
  if (error?.code !== "flow_mapping_invalid" || typeof step !== "number" || !error.message) return {};
  return { mappingErrors: { [step - 1]: error.message } };
}

/** Tries the form's filter on a transfer from the log, through the API's preview; nothing is saved. */
async function previewFilter(c: C, draft: FlowDraft, form: FormData, flowId?: string) {
  const raw = form.previewTransfer;
  const transferId = (typeof raw === "string" ? raw : "").trim();
  const base = { ...(flowId ? { flowId } : {}) };
  if (!transferId)
    return editor(c, draft, { ...base, errors: ["Filter preview: enter a transfer id from the transfer log."], status: 400 });
  if (!draft.filter)
    return editor(c, draft, { ...base, preview: { transferId, match: true }, note: "No filter: the flow takes every order." });
  const result = await callApi<{ match: boolean | null; error: string | null }>(
    c,
    c.var.session.tenantId,
    "POST",
    "/flows/filter-preview",
    { filter: draft.filter, transferId },
  );
  if (!result.ok)
    return editor(c, draft, {
      ...base,
      errors: [result.error ?? "The filter could not be tried."],
      preview: { transferId },
      status: result.status === 404 ? 404 : 400,
    });
  return editor(c, draft, { ...base, preview: { transferId, match: result.body.match, error: result.body.error } });
}

flowRoutes.post("/", (c) => submit(c));

flowRoutes.get("/:id", async (c) => {
  const flow = await ownedFlow(c, c.req.param("id"));
  if (!flow) return notFoundPage(c);
  const draft: FlowDraft = {
    name: flow.name,
    source: flow.sourceConnectionId,
    stage: flow.triggerStage as FlowDraft["stage"],
    filter: flow.filter ?? "",
    enabled: flow.enabled,
    steps: flow.steps,
  };
  return editor(c, draft, { flowId: flow.id });
});

flowRoutes.post("/:id", async (c) => {
  if (!(await ownedFlow(c, c.req.param("id")))) return notFoundPage(c);
  return submit(c, c.req.param("id"));
});

flowRoutes.post("/:id/toggle", async (c) => {
  const flow = await ownedFlow(c, c.req.param("id"));
  if (!flow) return notFoundPage(c);
  const result = await callApi(c, c.var.session.tenantId, "PATCH", `/flows/${encodeURIComponent(flow.id)}`, {
    enabled: !flow.enabled,
  });
  if (!result.ok) return redirectWith(c, "/flows", result.error ?? "Could not change the flow.", "error");
  await audit(c.env, c.var.session, flow.enabled ? "flow.disable" : "flow.enable", flow.id);
  return redirectWith(c, "/flows", `${flow.name} is now ${flow.enabled ? "disabled" : "enabled"}.`);
});

flowRoutes.post("/:id/delete", async (c) => {
  const flow = await ownedFlow(c, c.req.param("id"));
  if (!flow) return notFoundPage(c);
  const result = await callApi(c, c.var.session.tenantId, "DELETE", `/flows/${encodeURIComponent(flow.id)}`);
  if (!result.ok) return redirectWith(c, `/flows/${flow.id}`, result.error ?? "Could not delete.", "error");
  await audit(c.env, c.var.session, "flow.delete", flow.id, { name: flow.name });
  return redirectWith(c, "/flows", "Flow deleted.");
});

flowRoutes.get("/:id/dry-run", async (c) => {
  const flow = await ownedFlow(c, c.req.param("id"));
  if (!flow) return notFoundPage(c);
  const run = await dryRun(c.env, flow, c.req.query("transfer"));
  return page(
    c,
    { title: `Dry run: ${flow.name}`, active: "flows" },
    <FlowDryRunPage flowId={flow.id} flowName={flow.name} run={run} />,
  );
});
