/**
 * Group commit toward the inbox shards. While a call to a shard is under way, the deliveries that
 * arrive for it wait and then go together in its next call: one RPC and one SQLite commit for
 * many webhooks in a burst, and no waiting at all when there is no burst. Every delivery still gets
 * its 2xx only after its shard answered that it is stored (guarantee 1); a failed call fails each
 * delivery in it, and the sender retries (the shard dedupes what it had stored).
 *
 * Each request stays in charge of itself: a call is made by a request whose own delivery is in
 * it, from that request's context (an object stub must not serve another request); a waiting
 * request keeps a timer of its own and re-checks, takes over when the call it waits for does not
 * end (its request was cancelled, say), and answers 503 when its own call never answers.
 */
import { OrderlyError } from "../domain/errors";
import type { AcceptResult } from "../durable/inbox-do";
import type { InboxAccept } from "../durable/inbox-entry";
import { withDeadline } from "./deadline";

export const BATCH_LIMITS = {
  /** Deliveries in one call at most: one call's message stays small (inline bodies are ≤ 100 KB). */
  maxBatch: 32,
  /** How often a waiting request looks again without being woken. */
  recheckMs: 50,
  /** A call under way this long is given up on by those waiting for it. */
  stuckMs: 10_000,
};

type Outcome = { result: AcceptResult } | { error: unknown };

interface Waiting {
  events: InboxAccept[];
  /**
   * When the call it is in (made by this or another waiting request) left; null while it waits.
   * A delivery that waited long for its turn still gives its call stuckMs.
   */
  takenAt: number | null;
  outcome?: Outcome;
}

interface ShardLine {
  /** The call under way: resolves when it ends. */
  call: { ended: Promise<void>; since: number } | null;
  waiting: Waiting[];
}

export interface InboxShardStub {
  /** Absent from shards of the release before (and from test doubles that only need acceptMany). */
  acceptEach?(deliveries: InboxAccept[][], inflight: number): Promise<Array<AcceptResult | { error: string }>>;
  acceptMany(deliveries: InboxAccept[][], inflight: number): Promise<AcceptResult[]>;
  accept(events: InboxAccept[], inflight: number): Promise<AcceptResult>;
}

const lines = new Map<number, ShardLine>();

/**
 * Stores one delivery's events in shard `shard` and answers with its result, together with
 * whatever else waits for that shard. `inflight` is read when the call leaves; `keepAlive` is the
 * request's `waitUntil`.
 */
export async function acceptInShard(
  stubFor: (shard: number) => InboxShardStub,
  shard: number,
  events: InboxAccept[],
  inflight: () => number,
  keepAlive: (call: Promise<unknown>) => void,
  limits = BATCH_LIMITS,
): Promise<AcceptResult> {
  let line = lines.get(shard);
  if (!line) {
    line = { call: null, waiting: [] };
    lines.set(shard, line);
  }
  const me: Waiting = { events, takenAt: null };
  line.waiting.push(me);
  while (!me.outcome) {
    const call = line.call;
    if (me.takenAt === null && (!call || Date.now() - call.since > limits.stuckMs)) {
      // The call outlives its request if the sender disconnects (waitUntil), so the line is freed
      // when it answers instead of after stuckMs.
      const sending = send(line, me, () => stubFor(shard), inflight(), limits.maxBatch);
      keepAlive(sending);
      // Bounded like a wait for another request's call: a call that never answers ends in a 503.
      await withDeadline(sending, limits.stuckMs + 1, "the inbox call").catch(() => {});
      continue;
    }
    if (me.takenAt !== null && Date.now() - me.takenAt > limits.stuckMs) {
      // In a call that has not answered: whether it was stored is unknown, so the sender retries.
      throw new OrderlyError("The inbox did not confirm this delivery in time; please retry.", {
        errorClass: "unavailable",
        code: "inbox_timeout",
      });
    }
    let timer = 0;
    await Promise.race([
      call?.ended,
      new Promise((resolve) => {
        timer = setTimeout(resolve, limits.recheckMs);
      }),
    ]);
    clearTimeout(timer);
  }
  if ("error" in me.outcome) throw me.outcome.error;
  return me.outcome.result;
}

/** One call with the caller's delivery and the others waiting (maxBatch at most), oldest first. */
async function send(line: ShardLine, me: Waiting, stub: () => InboxShardStub, inflight: number, maxBatch: number): Promise<void> {
  const batch = [me, ...line.waiting.filter((w) => w !== me)].slice(0, maxBatch);
  const now = Date.now();
  for (const w of batch) w.takenAt = now;
  line.waiting = line.waiting.filter((w) => w.takenAt === null);
  let ended = () => {};
  const call = {
    ended: new Promise<void>((resolve) => {
      ended = resolve;
    }),
    since: Date.now(),
  };
  line.call = call;
  try {
    // The stub is made inside the try: if that throws, every delivery taken gets the error.
    const results = await acceptAll(
      stub(),
      batch.map((w) => w.events),
      inflight,
    );
    batch.forEach((w, i) => {
      const result = results[i]!;
      w.outcome =
        "error" in result
          ? {
              error: new OrderlyError(`The inbox could not store this delivery (${result.error}); please retry.`, {
                errorClass: "unavailable",
                code: "inbox_not_stored",
              }),
            }
          : { result };
    });
  } catch (error) {
    for (const w of batch) w.outcome = { error };
  } finally {
    if (line.call === call) line.call = null;
    ended();
  }
}

/**
 * One call for the batch, with an outcome per delivery (acceptEach); to a shard of a release
 * before, acceptMany (all or nothing) or one call per delivery. A gradual deployment runs each
 * object on one version, so a new Worker meets old shards for the rollout's length (and a plain
 * deploy until they restart): their deliveries must not fail.
 */
async function acceptAll(
  shard: InboxShardStub,
  deliveries: InboxAccept[][],
  inflight: number,
): Promise<Array<AcceptResult | { error: string }>> {
  if (shard.acceptEach) {
    try {
      return await shard.acceptEach(deliveries, inflight);
    } catch (error) {
      if (!isMissingMethod(error, "acceptEach")) throw error;
    }
  }
  try {
    return await shard.acceptMany(deliveries, inflight);
  } catch (error) {
    if (!isMissingMethod(error, "acceptMany")) throw error;
    return Promise.all(deliveries.map((events) => shard.accept(events, inflight)));
  }
}

/**
 * Workers RPC's answer when the object's code has no such method: `The RPC receiver does not
 * implement "<name>".` (workerd 2026), `... does not implement the method "<name>".` (earlier).
 */
export function isMissingMethod(error: unknown, method: string): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.message.includes(`does not implement "${method}"`) ||
    error.message.includes(`does not implement the method "${method}"`)
  );
}
