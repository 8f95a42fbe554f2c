/**
 * The stage machine of an order. The ladder only climbs; an order that jumps ahead (paid before
 * created) catches up by running every stage it passed, in ladder order. Cancelled and refunded
 * sit beside the ladder: cancelled happens once per cancellation, refunded once per refund. A
 * cancelled order stays cancelled unless a newer version of it climbs the ladder past where it was
 * (WooCommerce takes a late payment on an order it cancelled when its stock hold ran out): it is
 * then reopened and climbs, and a later cancellation is a new one. A version that shows a stage
 * already reached (restored from the bin; WooCommerce's `refunded` status, read as paid) leaves it
 * cancelled: nothing new happened to the order that its cancel flows did not already answer.
 */
import { z } from "zod";

export const LADDER = ["created", "paid", "fulfilled", "completed"] as const;
export const STAGES = [...LADDER, "cancelled", "refunded"] as const;

export const stageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof stageSchema>;
export type LadderStage = (typeof LADDER)[number];

export interface StageState {
  /** Highest ladder stage reached, or null before the first event. */
  reached: LadderStage | null;
  cancelled: boolean;
  /** Times a cancelled order came back (absent in states stored before reopening existed). */
  reopened?: number;
}

export const initialStageState: StageState = { reached: null, cancelled: false };

export function ladderRank(stage: LadderStage | null): number {
  return stage === null ? 0 : LADDER.indexOf(stage) + 1;
}

export function isLadderStage(stage: Stage): stage is LadderStage {
  return (LADDER as readonly string[]).includes(stage);
}

/**
 * Applies a stage seen in an event. Returns the new state and the stages whose flows must now
 * run, oldest first. A late or repeated stage passes nothing; the ladder never goes backwards.
 * `reopens`: the event is newer than any version seen, so a ladder stage in it past the one reached
 * takes a cancelled order back (a late delivery of an older version does not).
 */
export function advanceStage(
  state: StageState,
  stage: Stage,
  { reopens = false }: { reopens?: boolean } = {},
): { state: StageState; passed: Stage[] } {
  if (stage === "refunded") {
    // A refund implies the order was paid: catch up the ladder first.
    const climb = climbTo(state, "paid");
    return { state: climb.state, passed: [...climb.passed, "refunded"] };
  }
  if (stage === "cancelled") {
    if (state.cancelled) return { state, passed: [] };
    return { state: { ...state, cancelled: true }, passed: ["cancelled"] };
  }
  if (!state.cancelled) return climbTo(state, stage);
  if (!reopens || ladderRank(stage) <= ladderRank(state.reached)) return { state, passed: [] };
  return climbTo({ ...state, cancelled: false, reopened: (state.reopened ?? 0) + 1 }, stage);
}

/**
 * The occurrence a stage's transfers are made under: a refund's own id, a cancellation after the
 * order was reopened its count (so it is a transfer of its own), otherwise none.
 */
export function stageOccurrence(stage: Stage, state: StageState, refundOccurrence: string): string {
  if (stage === "refunded") return refundOccurrence;
  if (stage === "cancelled" && state.reopened) return `reopened-${state.reopened}`;
  return "";
}

function climbTo(state: StageState, target: LadderStage): { state: StageState; passed: Stage[] } {
  const from = ladderRank(state.reached);
  const to = ladderRank(target);
  if (to <= from || state.cancelled) return { state, passed: [] };
  return { state: { ...state, reached: target }, passed: LADDER.slice(from, to) };
}

/** Order in which the flows of passed stages run: ladder first, then cancelled, then refunds. */
export function stageSortKey(stage: Stage): number {
  return STAGES.indexOf(stage);
}
