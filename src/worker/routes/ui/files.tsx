/**
 * /files: the tenant's exported files (connectors/files), newest order first, paged with R2's cursor
 * and filtered by connection, and /files/download?key=… for one of them. Read through
 * files.store.ts, the API's own code, so a key of another tenant is not found here either.
 */
import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { downloadHeaders, listFiles, readFile } from "../../../connectors/files/files.store";
import { database } from "../../../db/client";
import { connections } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import { FilesPage } from "../../../ui/pages/files";
import { notFoundPage, page } from "./render";
import type { UiEnv } from "./ui-env";

export const fileRoutes = new Hono<UiEnv>();
const LIMIT = 50;
const TITLE = "Files";

fileRoutes.get("/", async (c) => {
  const tenantId = c.var.session.tenantId;
  const own = await database(c.env)
    .select({ id: connections.id, name: connections.name })
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), eq(connections.connector, "files")))
    .orderBy(connections.name)
    .all();
  // Only the tenant's own files connections filter; anything else in the query lists them all.
  const wanted = c.req.query("connection") ?? "";
  const connection = own.some((o) => o.id === wanted) ? wanted : null;
  const cursor = c.req.query("cursor") || undefined;
  try {
    const { files, nextCursor } = await listFiles(c.env, tenantId, {
      connectionId: connection ?? undefined,
      cursor,
      limit: LIMIT,
    });
    const base = connection ? `/files?connection=${encodeURIComponent(connection)}&` : "/files?";
    return page(
      c,
      { title: TITLE, active: "files" },
      <FilesPage
        files={files}
        connections={own}
        connection={connection}
        nextHref={nextCursor ? `${base}cursor=${encodeURIComponent(nextCursor)}` : null}
        firstHref={cursor ? base.slice(0, -1) : null}
      />,
    );
  } catch (error) {
    return refused(c, error);
  }
});

fileRoutes.get("/download", async (c) => {
  try {
    const { file, object } = await readFile(c.env, c.var.session.tenantId, c.req.query("key") ?? "");
    return new Response(object.body, { status: 200, headers: downloadHeaders(file) });
  } catch (error) {
    return refused(c, error);
  }
});

/** A refused key or cursor says why (400); another tenant's file, or none, is the usual 404 page. */
function refused(c: Context<UiEnv>, error: unknown): Promise<Response> {
  // A file emptied by retention: its record is listed, so say why it cannot be downloaded.
  if (error instanceof OrderlyError && error.code === "file_expired")
    return page(
      c,
      { title: TITLE, active: "files", status: 404 },
      <section>
        <h1>That file was deleted after the retention</h1>
        <p>{error.message}</p>
        <p>
          <a href="/files">Back to the newest files</a>
        </p>
      </section>,
    );
  if (error instanceof OrderlyError && error.errorClass === "not_found") return notFoundPage(c);
  if (error instanceof OrderlyError && error.errorClass === "validation")
    return page(
      c,
      { title: TITLE, active: "files", status: 400 },
      <section>
        <h1>That file list or file cannot be shown</h1>
        <p>{error.message}</p>
        <p>
          <a href="/files">Back to the newest files</a>
        </p>
      </section>,
    );
  throw error;
}
