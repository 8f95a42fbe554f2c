/**
 * The stage machine of an order. The ladder only climbs; an order that jumps ahead (paid before
 * created) catches up by running every stage it passed, in ladder order. Cancelled and refunded
 * sit beside the ladder: cancelled happens once, refunded once per refund.
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
 * run, oldest first. A late or repeated stage passes nothing; the state never goes backwards.
 */
export function advanceStage(state: StageState, stage: Stage): { state: StageState; passed: Stage[] } {
  if (stage === "refunded") {
    // A refund implies the order was paid: catch up the ladder first.
    const climb = climbTo(state, "paid");
    return { state: climb.state, passed: [...climb.passed, "refunded"] };
  }
  if (stage === "cancelled") {
    if (state.cancelled) return { state, passed: [] };
    return { state: { ...state, cancelled: true }, passed: ["cancelled"] };
  }
  if (state.cancelled) return { state, passed: [] };
  return climbTo(state, stage);
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
