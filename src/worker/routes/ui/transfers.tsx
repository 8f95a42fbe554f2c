/** /transfers: the log with search and filters, one transfer's page, and retry (three ways). */
import { eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { getConnector } from "../../../connectors/registry";
import { database } from "../../../db/client";
import { encodeCursor } from "../../../db/cursor";
import { connections, type TransferStatus } from "../../../db/schema";
import { TransferDetailPage } from "../../../ui/pages/transfer-detail";
import { TransfersPage } from "../../../ui/pages/transfers";
import { audit } from "./audit";
import { transferDetail } from "./data/transfer-detail";
import { PAGE_SIZE, type TransferFilters, transferListQuery } from "./data/transfer-list";
import { callApi } from "./internal-api";
import { notFoundPage, page, redirectWith } from "./render";
import { canEdit, type UiEnv } from "./ui-env";

export const transferRoutes = new Hono<UiEnv>();

transferRoutes.get("/", async (c) => {
  const s = c.var.session;
  const q = c.req.query();
  const filters: TransferFilters = {
    ...(q.q ? { q: q.q } : {}),
    ...(q.status ? { status: q.status as TransferStatus } : {}),
    ...(q.stage ? { stage: q.stage } : {}),
    ...(q.connection ? { connection: q.connection } : {}),
    // The failure alert links here with its target; pages and the "Newest" link keep it.
    ...(q.target ? { target: q.target } : {}),
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  };
  const db = database(c.env);
  const [rows, conns] = await Promise.all([
    transferListQuery(db, s.tenantId, filters),
    db
      .select({ id: connections.id, name: connections.name, connector: connections.connector })
      .from(connections)
      .where(eq(connections.tenantId, s.tenantId)),
  ]);
  const pageRows = rows.slice(0, PAGE_SIZE);
  const last = pageRows.at(-1);
  const params = (cursor?: string) => {
    const p = new URLSearchParams(Object.entries({ ...filters, cursor }).filter(([, v]) => v) as Array<[string, string]>);
    return `/transfers?${p.toString()}`;
  };
  return page(
    c,
    { title: "Transfer log", active: "transfers" },
    <TransfersPage
      rows={pageRows}
      filters={filters}
      sources={conns.filter((r) => getConnector(r.connector)?.source)}
      nextHref={rows.length > PAGE_SIZE && last ? params(encodeCursor(last)) : null}
      firstHref={filters.cursor ? params() : null}
    />,
  );
});

async function detail(c: Context<UiEnv>, extra: { editText?: string; errors?: string[]; status?: number } = {}) {
  const d = await transferDetail(c.env, c.var.session.tenantId, c.req.param("id") ?? "");
  if (!d) return notFoundPage(c);
  return page(
    c,
    { title: `Order ${d.transfer.orderNumber ?? d.transfer.orderId}`, active: "transfers", status: extra.status ?? 200 },
    <TransferDetailPage
      d={d}
      canEdit={canEdit(c.var.session.role)}
      csrf={c.var.session.csrfToken}
      editText={extra.editText}
      errors={extra.errors}
    />,
  );
}

transferRoutes.get("/:id", (c) => detail(c));

transferRoutes.post("/:id/retry", async (c) => {
  const s = c.var.session;
  const id = c.req.param("id");
  const form = await c.req.parseBody();
  const mode = form.mode === "start" ? "start" : form.mode === "edit" ? "edit" : "failed";
  const d = await transferDetail(c.env, s.tenantId, id);
  if (!d) return notFoundPage(c);
  const body: Record<string, unknown> = {
    fromStart: mode === "start" || d.transfer.status === "completed",
    // A transfer whose flow was deleted re-runs with the steps it has (there are no others).
    useCurrentSettings: mode === "start" && d.flowName !== null,
  };
  let editText: string | undefined;
  if (mode === "edit") {
    editText = typeof form.order === "string" ? form.order : "";
    try {
      body.order = JSON.parse(editText);
    } catch (error) {
      return detail(c, { editText, errors: [`The order is not valid JSON: ${(error as Error).message}`], status: 400 });
    }
  }
  const result = await callApi<{ status: string }>(c, s.tenantId, "POST", `/transfers/${encodeURIComponent(id)}/retry`, body);
  if (result.status === 404) return notFoundPage(c);
  if (!result.ok)
    return detail(c, {
      ...(editText ? { editText } : {}),
      errors: [result.error ?? "The retry was refused."],
      status: result.status,
    });
  await audit(c.env, s, "transfer.retry", id, {
    mode,
    fromStart: body.fromStart,
    useCurrentSettings: body.useCurrentSettings,
    edited: mode === "edit",
  });
  const what =
    mode === "edit"
      ? "The edited order was saved and the transfer queued again."
      : mode === "start"
        ? "Queued again from the start with the flow's current settings."
        : "Queued again from the failed step.";
  return redirectWith(c, `/transfers/${id}`, what);
});
