/**
 * Retention of exported files (names, addresses, phones, e-mails): past the tenant's retention a
 * file is overwritten with an empty body that keeps its metadata plus `expiredAt`. Deleting it would
 * be wrong: a later update re-runs its step, which would find nothing and write a second pick list;
 * the emptied record is adopted instead (files.export.ts), as a sent e-mail's outbox row is.
 *
 * Files are keyed by the order's date, not by when they were written, so expired ones are found by
 * walking the tenant's prefix a page at a time from a cursor (the last key looked at), wrapping
 * to the start at the end; what a call may overwrite is bounded by its caller (src/worker/retention.ts).
 */
import { filesPrefix } from "./files.store";

/** Keys listed per call (R2's maximum page). */
export const FILES_LIST_LIMIT = 1000;

export interface ExpireFilesResult {
  /** The last key looked at, where the next call goes on; "" once the listing reached the end. */
  after: string;
  /** Files emptied by this call. */
  expired: number;
}

/**
 * One page of the tenant's files after `after`: each written before `cutoff` and not yet emptied
 * is emptied, at most `maxWrites` of them; the cursor stops before the first one left over.
 */
export async function expireFiles(
  env: Pick<Env, "BLOBS">,
  tenantId: string,
  opts: { cutoff: number; now: number; after: string; maxWrites: number },
): Promise<ExpireFilesResult> {
  const listed = await env.BLOBS.list({
    prefix: filesPrefix(tenantId),
    limit: FILES_LIST_LIMIT,
    include: ["httpMetadata", "customMetadata"],
    ...(opts.after ? { startAfter: opts.after } : {}),
  });
  let after = opts.after;
  let expired = 0;
  for (const object of listed.objects) {
    const meta = object.customMetadata ?? {};
    if (!meta.expiredAt && object.uploaded.getTime() < opts.cutoff) {
      if (expired >= opts.maxWrites) return { after, expired };
      await env.BLOBS.put(object.key, new Uint8Array(0), {
        ...(object.httpMetadata ? { httpMetadata: object.httpMetadata } : {}),
        customMetadata: {
          ...meta,
          writtenAt: meta.writtenAt ?? object.uploaded.toISOString(),
          expiredAt: new Date(opts.now).toISOString(),
        },
      });
      expired++;
    }
    after = object.key;
  }
  // A truncated listing goes on after its last key; one that says so with no keys is done.
  return { after: listed.truncated && listed.objects.length > 0 ? after : "", expired };
}
