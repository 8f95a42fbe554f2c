/** Builds the context a target action runs with, for testing an action without the queue. */
import { env } from "cloudflare:test";
import type { z } from "zod";
import type { ActionContext, ActionResult, StepHistoryEntry, TargetAction } from "../../src/connectors/contract";
import { createHttpClient } from "../../src/connectors/http";

export interface ContextOptions<C, CS> {
  connection: { id?: string; tenantId?: string; settings: CS; credentials: C };
  settings?: unknown;
  reference?: string;
  previous?: ReadonlyArray<ActionResult | undefined>;
  history?: ReadonlyArray<StepHistoryEntry>;
  vendor?: string;
  /** The step's `exclusive`, as run-step gives it when the target has a gate. */
  exclusive?: ActionContext<unknown, unknown, unknown>["exclusive"];
}

/** Returns the context and the list its `mapped` snapshots are collected in. */
export function actionContext<S extends z.ZodType, C, CS>(action: TargetAction<S, C, CS>, options: ContextOptions<C, CS>) {
  const mapped: unknown[] = [];
  const http = createHttpClient({ timeoutMs: 2000, vendor: options.vendor ?? "vendor" });
  const ctx: ActionContext<z.infer<S>, C, CS> = {
    connection: {
      id: options.connection.id ?? "con_test",
      tenantId: options.connection.tenantId ?? "ten_test",
      settings: options.connection.settings,
      credentials: options.connection.credentials,
    },
    settings: action.settings.parse(options.settings ?? {}),
    reference: options.reference ?? "orderly-00000000000000000000000000000000-0",
    http,
    mapped: (data) => mapped.push(data),
    previous: options.previous ?? [],
    history: options.history ?? [],
    env,
    ...(options.exclusive ? { exclusive: options.exclusive } : {}),
  };
  return { ctx, mapped, http };
}
