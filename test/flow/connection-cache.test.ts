import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadSourceConnection } from "../../src/db/connections";
import { createWorld } from "../helpers/world";

async function rename(id: string, name: string): Promise<void> {
  await env.DB.prepare("UPDATE connections SET name = ? WHERE id = ?").bind(name, id).run();
}

describe("the webhook path's connection cache", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("serves a due entry while one background re-read refreshes it, and waits once it is too old", async () => {
    const world = await createWorld();
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    const background: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>) => background.push(promise);

    const first = await loadSourceConnection(env, world.shopId, waitUntil);
    await rename(world.shopId, "Renamed shop");
    // Within 30 s: the cached entry, no re-read.
    expect((await loadSourceConnection(env, world.shopId, waitUntil))?.name).toBe(first?.name);
    expect(background).toHaveLength(0);

    // Due: two requests both get the cached entry at once, and only one re-read starts.
    vi.setSystemTime(start + 31_000);
    expect((await loadSourceConnection(env, world.shopId, waitUntil))?.name).toBe(first?.name);
    expect((await loadSourceConnection(env, world.shopId, waitUntil))?.name).toBe(first?.name);
    expect(background).toHaveLength(1);
    await Promise.all(background);
    expect((await loadSourceConnection(env, world.shopId, waitUntil))?.name).toBe("Renamed shop");

    // Older than five minutes: not served; the request reads the row itself.
    await rename(world.shopId, "Renamed again");
    vi.setSystemTime(start + 31_000 + 6 * 60_000);
    expect((await loadSourceConnection(env, world.shopId, waitUntil))?.name).toBe("Renamed again");
    expect(background).toHaveLength(1);
  });
});
