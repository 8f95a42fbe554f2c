/**
 * The settings UI's two static files, bundled into the Worker as strings and served by it. There
 * is no assets binding: its router ran in front of every request, each webhook included, and
 * locally cost a quarter of the acknowledgements' throughput (docs/performance.md, "The UI's files
 * in the Worker"). Pages link each file with its content hash, so a browser keeps it until a
 * release changes it and never mixes an old file with a new page.
 */
import { fnv1a } from "../worker/fnv";
import { APP_CSS } from "./static/app-css";
import { UI_SCRIPT } from "./static/ui-script";

interface StaticFile {
  body: string;
  contentType: string;
  /** Hex FNV-1a of the body: the version in the page's link and the ETag. */
  version: string;
}

function file(body: string, contentType: string): StaticFile {
  return { body, contentType, version: fnv1a(body).toString(16).padStart(8, "0") };
}

export const STATIC_FILES = {
  "/app.css": file(APP_CSS, "text/css; charset=utf-8"),
  "/ui.js": file(UI_SCRIPT, "text/javascript; charset=utf-8"),
} satisfies Record<string, StaticFile>;

/** The link a page uses for a static file: its path with the content's version. */
export function staticHref(path: keyof typeof STATIC_FILES): string {
  return `${path}?v=${STATIC_FILES[path].version}`;
}

const YEAR_SECONDS = 31_536_000;

/**
 * The answer for a static file. A link with the current version is cached for a year (the link
 * changes with the file); any other request revalidates with the ETag.
 */
export function staticResponse(file: StaticFile, request: Request): Response {
  const etag = `"${file.version}"`;
  const current = new URL(request.url).searchParams.get("v") === file.version;
  const headers = {
    "content-type": file.contentType,
    etag,
    "cache-control": current ? `public, max-age=${YEAR_SECONDS}, immutable` : "no-cache",
    "x-content-type-options": "nosniff",
  };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : file.body, { headers });
}
