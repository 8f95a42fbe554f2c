/** One transfer: what triggered it, its timeline of steps and attempts with every snapshot, and retry. */

import { filterNotTaken } from "../../domain/flow-filter";
import type { SnapshotView, TransferDetail } from "../../worker/routes/ui/data/transfer-detail";
import { amount, when } from "../../worker/routes/ui/render";
import { Errors, PostForm } from "../components/form";
import { prettyJson } from "../components/format";
import { JsonDiff } from "../components/json-diff";
import { JsonView } from "../components/json-view";
import { StatusBadge } from "../components/status";

const ERROR_HINTS: Record<string, string> = {
  validation: "The target refused the data as it was sent. Fix the setting or the order, then retry.",
  auth: "The target refused the credentials. Update them on the connection, then retry.",
  not_found: "Something the step needed was not found in the target.",
  conflict: "The target reported a conflict with what it holds.",
};

function snapLabel(s: SnapshotView): string {
  const where = s.stepIndex === null ? "" : ` · step ${s.stepIndex + 1}`;
  const attempt = s.attempt === null ? "" : ` · attempt ${s.attempt}`;
  return `${s.kind}${where}${attempt} · ${when(s.createdAt)} · ${s.size} bytes`;
}

function topicOf(received: SnapshotView | undefined): string | null {
  const headers = (received?.data as { headers?: Record<string, string> } | null)?.headers ?? {};
  const key = Object.keys(headers).find((k) => /topic|event$/i.test(k));
  return key ? `${headers[key]} (${key})` : null;
}

export function TransferDetailPage(props: {
  d: TransferDetail;
  canEdit: boolean;
  csrf: string;
  editText?: string;
  errors?: string[];
}) {
  const { transfer: t, steps, attempts, snapshots, names } = props.d;
  const received = snapshots.find((s) => s.kind === "received");
  const canonical = snapshots.filter((s) => s.kind === "canonical");
  const original = canonical[0];
  const latest = canonical.at(-1);
  const failedStep = steps.find((s) => s.status === "failed");
  const retryable = t.status === "failed" || t.status === "completed";
  const latestOrder = (latest?.data as { order?: unknown } | null)?.order;
  return (
    <>
      <h1>
        Order {t.orderNumber ?? t.orderId} · {t.stage} <StatusBadge status={t.status} />
      </h1>
      <dl class="summary">
        <dt>Flow</dt>
        <dd>{props.d.flowName ? <a href={`/flows/${t.flowId}`}>{props.d.flowName}</a> : `${t.flowId} (deleted)`}</dd>
        <dt>Source</dt>
        <dd>{names.get(t.sourceConnectionId) ?? t.sourceConnectionId}</dd>
        <dt>Customer</dt>
        <dd>{[t.customerName, t.customerEmail].filter(Boolean).join(" · ") || "—"}</dd>
        <dt>Amount</dt>
        <dd>{amount(t.total, t.currency)}</dd>
        <dt>Created</dt>
        <dd>{when(t.createdAt)}</dd>
        <dt>Steps done</dt>
        <dd>
          {t.stepsDone} of {t.stepCount}
          {t.completedAt ? `, finished ${when(t.completedAt)}` : ""}
        </dd>
      </dl>
      {t.status === "failed" ? (
        <section aria-labelledby="h-error" class="problem">
          <h2 id="h-error">Why it failed</h2>
          <p>
            <strong>{t.errorReason ?? "No reason was recorded."}</strong>
          </p>
          <p>
            {failedStep
              ? `Step ${failedStep.stepIndex + 1} (${failedStep.action} on ${names.get(failedStep.targetConnectionId) ?? failedStep.targetConnectionId}) failed after ${failedStep.attempts} attempt${failedStep.attempts === 1 ? "" : "s"}. `
              : ""}
            {t.errorClass ? (ERROR_HINTS[t.errorClass] ?? `Error class: ${t.errorClass}.`) : ""}
          </p>
          <p>
            Triggered by {topicOf(received) ?? "a delivery"} received {when(received?.createdAt)}.
          </p>
        </section>
      ) : null}
      {t.status === "completed" && t.errorReason === filterNotTaken().message ? (
        <section aria-labelledby="h-not-taken">
          <h2 id="h-not-taken">Nothing was sent</h2>
          <p>
            <strong>{t.errorReason}</strong>
          </p>
        </section>
      ) : null}
      {props.canEdit && retryable ? (
        <section aria-labelledby="h-retry">
          <h2 id="h-retry">Retry</h2>
          <Errors errors={props.errors} />
          <div class="buttons">
            {t.status === "failed" ? (
              <PostForm action={`/transfers/${t.id}/retry`} csrf={props.csrf} class="inline" label="Retry from the failed step">
                <input type="hidden" name="mode" value="failed" />
                <button type="submit">Retry from the failed step</button>
              </PostForm>
            ) : null}
            <PostForm action={`/transfers/${t.id}/retry`} csrf={props.csrf} class="inline" label="Retry from the start">
              <input type="hidden" name="mode" value="start" />
              <button type="submit" class="secondary">
                Retry from the start with current settings
              </button>
            </PostForm>
          </div>
          <details class="edit" open={Boolean(props.editText)}>
            <summary>Edit the order, then retry</summary>
            <PostForm action={`/transfers/${t.id}/retry`} csrf={props.csrf} label="Edit the order, then retry">
              <input type="hidden" name="mode" value="edit" />
              <div class="field">
                <label for="order-json">Canonical order (JSON)</label>
                <textarea id="order-json" name="order" rows={18} spellcheck={false} aria-describedby="order-json-help">
                  {props.editText ?? prettyJson(latestOrder ?? null)}
                </textarea>
                <p class="help" id="order-json-help">
                  Checked against the canonical order's schema before anything runs. The edited order is kept as a new snapshot,
                  next to the original.
                </p>
              </div>
              <button type="submit">Save the order and retry</button>
            </PostForm>
          </details>
        </section>
      ) : null}
      <section aria-labelledby="h-timeline">
        <h2 id="h-timeline">Timeline</h2>
        <ol class="timeline">
          <li>
            <h3>Received</h3>
            {snapshots
              .filter((s) => s.kind === "received")
              .map((s) => (
                <JsonView summary={snapLabel(s)} value={s.data} />
              ))}
          </li>
          <li>
            <h3>Canonical order{canonical.length > 1 ? ` (${canonical.length} versions)` : ""}</h3>
            {canonical.map((s, i) => (
              <JsonView summary={`${i === 0 ? "Original" : `Version ${i + 1}`} · ${snapLabel(s)}`} value={s.data} />
            ))}
            {original && latest && canonical.length > 1 ? (
              <div class="compare">
                <h4>What changed between the original and the latest version</h4>
                <JsonDiff
                  before={original.data}
                  after={latest.data}
                  beforeLabel="Original"
                  afterLabel={`Version ${canonical.length}`}
                />
              </div>
            ) : null}
          </li>
          {steps.map((step) => (
            <li>
              <h3>
                Step {step.stepIndex + 1}: {step.action} on {names.get(step.targetConnectionId) ?? step.targetConnectionId}{" "}
                <StatusBadge status={step.status} />
              </h3>
              <p>
                {step.attempts} attempt{step.attempts === 1 ? "" : "s"}
                {step.externalId ? ` · record ${step.externalId} (${step.created ? "created" : "adopted or updated"})` : ""}
                {step.errorReason ? ` · ${step.errorReason}` : ""}
              </p>
              {attempts.filter((a) => a.stepIndex === step.stepIndex).length > 0 ? (
                <ul class="attempts">
                  {attempts
                    .filter((a) => a.stepIndex === step.stepIndex)
                    .map((a) => (
                      <li>
                        Attempt {a.attempt}: {a.outcome}
                        {a.errorClass ? ` (${a.errorClass})` : ""} in {a.latencyMs} ms, {when(a.createdAt)}
                      </li>
                    ))}
                </ul>
              ) : null}
              {snapshots
                .filter((s) => s.stepIndex === step.stepIndex)
                .map((s) => (
                  <JsonView summary={snapLabel(s)} value={s.data} />
                ))}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
