import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { STATIC_FILES, staticHref } from "../../src/ui/static-files";

const ORIGIN = "https://orderly.test";

describe("the UI's static files, served by the Worker", () => {
  it("serves the stylesheet and the script without a session, with their types and an ETag", async () => {
    for (const [path, type] of [
      ["/app.css", "text/css; charset=utf-8"],
      ["/ui.js", "text/javascript; charset=utf-8"],
    ] as const) {
      const res = await SELF.fetch(`${ORIGIN}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("etag")).toBe(`"${STATIC_FILES[path].version}"`);
      // Without the version in the link, the browser must ask again (an old page after a release).
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toBe(STATIC_FILES[path].body);
    }
  });

  it("lets the browser keep a file for a year when the link carries its current version", async () => {
    const res = await SELF.fetch(`${ORIGIN}${staticHref("/app.css")}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const stale = await SELF.fetch(`${ORIGIN}/app.css?v=00000000`);
    expect(stale.headers.get("cache-control")).toBe("no-cache");
    await stale.body?.cancel();
    await res.body?.cancel();
  });

  it("answers 304 to a matching If-None-Match and an empty body to HEAD", async () => {
    const etag = `"${STATIC_FILES["/ui.js"].version}"`;
    const revalidated = await SELF.fetch(`${ORIGIN}/ui.js`, { headers: { "if-none-match": etag } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
    const head = await SELF.fetch(`${ORIGIN}/ui.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    expect(await head.text()).toBe("");
  });

  it("links every page to the current versions of both files", async () => {
    const res = await SELF.fetch(`${ORIGIN}/sign-in`);
    const html = await res.text();
    expect(html).toContain(`href="${staticHref("/app.css")}"`);
    expect(html).toContain(`src="${staticHref("/ui.js")}"`);
    expect(staticHref("/app.css")).toMatch(/^\/app\.css\?v=[0-9a-f]{8}$/);
  });
});
