/**
 * "Kept, not processed": deliveries Orderly kept instead of processing (dead letters), and one of
 * them with its whole reason, the headers kept and the body as received. Owners and admins replay a
 * kept delivery from either page, or a connection's all from the list, or mark one handled. One
 * whose reason said to act by hand asks first (ConfirmReplayPage).
 */
import type { KeptBody } from "../../db/dead-letters";
import { type CheckFirst, type Handled, REPLAY_BATCH, type Replayed } from "../../worker/routes/replay";
import { when } from "../../worker/routes/ui/render";
import { PostForm } from "../components/form";
import { prettyJson } from "../components/format";
import { JsonView } from "../components/json-view";

export interface KeptRow {
  id: number;
  createdAt: number;
  /** A signed delivery that could not be taken; else a step that ran out of retries. */
  refused: boolean;
  code: string | null;
  action: string | null;
  stepIndex: number | null;
  connectionId: string | null;
  connectionName: string | null;
  /** The order as the merchant knows it (#1001), when known. */
  order: string | null;
  transferId: string | null;
  reason: string | null;
  /** A kept delivery not marked handled, which can be replayed (a failed step is retried from its transfer). */
  replayable: boolean;
  /** When a replay took it, and who. */
  replayed: Replayed | null;
  /** When a person marked it handled, and who. */
  handled: Handled | null;
  /** The last replay that was refused (the reason is then the new one). */
  lastRefused: { at: number; by: string } | null;
  /** The last replay found nothing to book and left it waiting (a test order). */
  lastIgnored: { at: number; by: string; code: string } | null;
  /** Left out of "Replay all", and its Replay asks first. */
  checkFirst: CheckFirst | null;
}

/** A connection with kept deliveries not taken yet: its "Replay all" form. */
export interface ReplayAll {
  connectionId: string;
  connectionName: string;
  /** How many "Replay all" takes. */
  count: number;
  /** How many more wait that "Replay all" leaves out (replayed one by one, or marked handled). */
  checkFirst: number;
  /** Where the previous "Replay all" stopped, when it left some. */
  after: number | null;
}

/** Why a kept delivery asks before it is replayed, as a sentence. */
const CHECK_FIRST: Record<CheckFirst, string> = {
  manual: "Its reason told you to book or enter it by hand.",
  older: "It was kept by an older Orderly, whose reason may have told you to book it by hand.",
};

/** What became of a replay, or the buttons for one. */
function Replay(props: { row: KeptRow; canReplay: boolean; csrf: string; back: "list" | "detail" }) {
  const r = props.row;
  if (r.handled)
    return (
      <span class="replayed">
        Marked handled {when(r.handled.at)} by {r.handled.by}
      </span>
    );
  if (!r.replayable) return null;
  if (r.replayed)
    return (
      <span class="replayed">
        Replayed {when(r.replayed.at)} by {r.replayed.by}
        {r.replayed.ignored ? ": nothing to book" : ""}
      </span>
    );
  return (
    <>
      {r.lastRefused ? (
        <span class="help">
          Replay refused {when(r.lastRefused.at)} ({r.lastRefused.by}).{" "}
        </span>
      ) : null}
      {r.lastIgnored ? (
        <span class="help">
          Replayed {when(r.lastIgnored.at)} ({r.lastIgnored.by}), not booked: <code>{r.lastIgnored.code}</code>.{" "}
        </span>
      ) : null}
      {r.checkFirst ? <span class="help">Not in "Replay all": check it was not entered by hand. </span> : null}
      {props.canReplay ? (
        <>
          <PostForm
            action={`/dead-letters/${r.id}/replay`}
            csrf={props.csrf}
            class="inline"
            label={`Replay kept delivery ${r.id}`}
          >
            <input type="hidden" name="back" value={props.back} />
            <button type="submit" class="secondary">
              Replay
            </button>
          </PostForm>{" "}
          <Handle id={r.id} csrf={props.csrf} back={props.back} />
        </>
      ) : null}
    </>
  );
}

/** "Mark handled": the merchant dealt with it by hand, so it is never replayed. */
function Handle(props: { id: number; csrf: string; back: "list" | "detail" }) {
  return (
    <PostForm
      action={`/dead-letters/${props.id}/handled`}
      csrf={props.csrf}
      class="inline"
      label={`Mark kept delivery ${props.id} handled`}
    >
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class="secondary">
        Mark handled
      </button>
    </PostForm>
  );
}

/**
 * Asked before replaying a kept delivery whose reason said to act by hand (or an older one): its
 * reason again, and the choice to replay it anyway, mark it handled, or go back.
 */
export function ConfirmReplayPage(props: { kept: KeptRow; csrf: string; back: "list" | "detail" }) {
  const k = props.kept;
  return (
    <>
      <h1>
        Replay kept delivery #{k.id}
        {k.order ? ` (order ${k.order})` : ""}?
      </h1>
      <p>
        {k.checkFirst ? CHECK_FIRST[k.checkFirst] : null} If you did, replaying it books it a second time. Its reason, as it was
        kept:
      </p>
      <p class="reason">{k.reason ?? "No reason was recorded."}</p>
      <p>Replay it only if it was not booked by hand. If it was, mark it handled instead: Orderly then never replays it.</p>
      <PostForm
        action={`/dead-letters/${k.id}/replay`}
        csrf={props.csrf}
        class="inline"
        label={`Replay kept delivery ${k.id} anyway`}
      >
        <input type="hidden" name="back" value={props.back} />
        <input type="hidden" name="confirm" value="1" />
        <button type="submit">Replay it: it was not booked by hand</button>
      </PostForm>{" "}
      <Handle id={k.id} csrf={props.csrf} back={props.back} />{" "}
      <a href={props.back === "list" ? "/dead-letters" : `/dead-letters/${k.id}`}>Back, do nothing</a>
    </>
  );
}

function ReplayAllForms(props: { connections: ReplayAll[]; csrf: string }) {
  if (props.connections.length === 0) return null;
  return (
    <section aria-labelledby="h-replay-all">
      <h2 id="h-replay-all">Replay</h2>
      <p class="help">
        Once the cause is gone (the connection enabled again, say), replay what was kept: Orderly takes each delivery as if the
        shop sent it now, and books an order once even if the shop also sent it again. {REPLAY_NOTE} Orderly cannot see what you
        entered by hand, so one whose reason told you to act by hand, or one kept by an older Orderly, is left out: replay it on
        its own, or mark it handled.
      </p>
      <ul>
        {props.connections.map((r) => (
          <li>
            {r.connectionName}:{" "}
            {[r.count > 0 ? `${r.count} waiting` : "", r.checkFirst > 0 ? `${r.checkFirst} to check one by one` : ""]
              .filter(Boolean)
              .join(", ")}{" "}
            {r.count === 0 ? null : (
              <PostForm
                action="/dead-letters/replay-all"
                csrf={props.csrf}
                class="inline"
                label={`Replay all from ${r.connectionName}`}
              >
                <input type="hidden" name="connectionId" value={r.connectionId} />
                {r.after === null ? null : <input type="hidden" name="after" value={String(r.after)} />}
                <button type="submit">Replay all from this connection</button>
              </PostForm>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

const REPLAY_NOTE = `Up to ${REPLAY_BATCH} are replayed per click, oldest first.`;

function Connection(props: { row: KeptRow }) {
  const r = props.row;
  if (!r.connectionId) return <>—</>;
  return r.connectionName ? (
    <a href={`/connections/${encodeURIComponent(r.connectionId)}`}>{r.connectionName}</a>
  ) : (
    <span>{`${r.connectionId} (deleted)`}</span>
  );
}

function What(props: { row: KeptRow }) {
  const r = props.row;
  if (r.refused)
    return (
      <>
        Delivery kept{r.code ? " · " : ""}
        {r.code ? <code>{r.code}</code> : null}
      </>
    );
  const step = r.stepIndex === null ? "A step" : `Step ${r.stepIndex + 1}`;
  return (
    <>
      {step} failed{r.action ? " · " : ""}
      {r.action ? <code>{r.action}</code> : null}
    </>
  );
}

export function DeadLettersPage(props: {
  rows: KeptRow[];
  nextHref: string | null;
  canReplay: boolean;
  csrf: string;
  replayAll: ReplayAll[];
}) {
  return (
    <>
      <h1>Kept, not processed</h1>
      <p>
        Orders a shop sent that Orderly kept instead of processing: the connection was disabled, the delivery came from another
        site, it could not be read, it was too large, or a person must book it. The shop will not send them again by itself; each
        reason says what to do, often to replay it here. Steps that failed for good are listed too: retry them from their
        transfer.
      </p>
      {props.canReplay ? <ReplayAllForms connections={props.replayAll} csrf={props.csrf} /> : null}
      {props.rows.length === 0 ? (
        <p>Nothing kept: every delivery so far was processed.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Connection</th>
              <th scope="col">What</th>
              <th scope="col">Order</th>
              <th scope="col">Reason</th>
              <th scope="col">Replay</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>
                  <a href={`/dead-letters/${r.id}`}>{when(r.createdAt)}</a>
                </td>
                <td>
                  <Connection row={r} />
                </td>
                <td>
                  <What row={r} />
                </td>
                <td>{r.order ?? "—"}</td>
                <td>{r.reason ?? "—"}</td>
                <td>
                  <Replay row={r} canReplay={props.canReplay} csrf={props.csrf} back="list" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.nextHref ? (
        <nav aria-label="Pages" class="pager">
          <a href={props.nextHref} rel="next">
            Older entries
          </a>
        </nav>
      ) : null}
    </>
  );
}

/** Bytes for people: "812 bytes", "96 KB", "3.1 MB" (1024-based, as the limits are). */
function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** JSON pretty-printed; anything else (a cut body, a form post, not text) as it came. */
function shown(body: KeptBody): { text: string; json: boolean } {
  if (!body.cut && body.utf8) {
    try {
      return { text: prettyJson(JSON.parse(body.text)), json: true };
    } catch {
      // Not JSON: shown as text below.
    }
  }
  return { text: body.text, json: false };
}

function Body(props: { body: KeptBody | null; rawSize: number | null; shownBytes: number; id: number }) {
  const b = props.body;
  if (!b)
    return (
      <p>
        The body is no longer stored
        {props.rawSize === null ? "" : ` (it was ${bytes(props.rawSize)})`}: it was deleted after its retention, or its file is
        gone.
      </p>
    );
  const view = shown(b);
  return (
    <>
      <p class="help">
        {bytes(b.size)}
        {view.json ? ", JSON, indented here for reading." : ", shown as received."}
        {b.utf8 ? "" : " It is not valid UTF-8 text: bytes that are not text show as �."}
      </p>
      {b.cut ? (
        <p>
          <strong>Cut:</strong> only the first {bytes(props.shownBytes)} of {bytes(b.size)} are shown. The whole body is returned
          by <code>GET /api/v1/dead-letters/{props.id}</code>.
        </p>
      ) : null}
      <pre tabindex={0}>
        <code>{view.text}</code>
      </pre>
    </>
  );
}

export function DeadLetterPage(props: {
  kept: KeptRow;
  canReplay: boolean;
  csrf: string;
  headers: Record<string, string> | null;
  rawSize: number | null;
  body: KeptBody | null;
  shownBytes: number;
  /** What the table stored, shown for a failed step (a delivery's is its headers and body, above). */
  stored: unknown;
}) {
  const k = props.kept;
  const headers = Object.entries(props.headers ?? {});
  return (
    <>
      <h1>
        {k.refused ? "Delivery kept, not processed" : "Step failed for good"}
        {k.order ? ` · order ${k.order}` : ""}
      </h1>
      <dl class="summary">
        <dt>Time</dt>
        <dd>{when(k.createdAt)}</dd>
        <dt>{k.refused ? "From" : "Target"}</dt>
        <dd>
          <Connection row={k} />
        </dd>
        <dt>What</dt>
        <dd>
          <What row={k} />
        </dd>
        <dt>Order</dt>
        <dd>{k.order ?? "—"}</dd>
        {k.transferId ? (
          <>
            <dt>Transfer</dt>
            <dd>
              <a href={`/transfers/${encodeURIComponent(k.transferId)}`}>Open the transfer</a> (retry it there)
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Why, and what to do</h2>
      <p class="reason">{k.reason ?? "No reason was recorded."}</p>
      {k.replayable || k.handled ? (
        <p>
          <Replay row={k} canReplay={props.canReplay} csrf={props.csrf} back="detail" />
        </p>
      ) : null}
      {k.refused ? (
        <>
          <h2>Headers kept</h2>
          {headers.length === 0 ? (
            <p>None were kept.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Header</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                {headers.map(([name, value]) => (
                  <tr>
                    <td>
                      <code>{name}</code>
                    </td>
                    <td>
                      <code>{value}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Body as received</h2>
          <Body body={props.body} rawSize={props.rawSize} shownBytes={props.shownBytes} id={k.id} />
        </>
      ) : (
        <JsonView summary="The step message that was kept" value={props.stored} open />
      )}
      <p>
        <a href="/dead-letters">Back to the list</a>
      </p>
    </>
  );
}
