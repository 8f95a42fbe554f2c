import { describe, expect, it } from "vitest";
import {
  advanceStage,
  initialStageState,
  isLadderStage,
  LADDER,
  ladderRank,
  STAGES,
  type Stage,
  type StageState,
  stageOccurrence,
  stageSortKey,
} from "../../src/domain/stage";

/** Applies stages in turn and returns the final state and what each call passed. */
function run(stages: Stage[], start: StageState = initialStageState): { state: StageState; passed: Stage[][] } {
  let state = start;
  const passed: Stage[][] = [];
  for (const stage of stages) {
    const result = advanceStage(state, stage);
    state = result.state;
    passed.push(result.passed);
  }
  return { state, passed };
}

describe("advanceStage on the ladder", () => {
  it("passes only paid when a created order is paid", () => {
    const { state, passed } = advanceStage({ reached: "created", cancelled: false }, "paid");
    expect(passed).toEqual(["paid"]);
    expect(state).toEqual({ reached: "paid", cancelled: false });
  });

  it("passes created first when the first event seen is paid", () => {
    const { state, passed } = advanceStage(initialStageState, "paid");
    expect(passed).toEqual(["created", "paid"]);
    expect(state.reached).toBe("paid");
  });

  it("passes all four ladder stages in order when the first event seen is completed", () => {
    const { state, passed } = advanceStage(initialStageState, "completed");
    expect(passed).toEqual(["created", "paid", "fulfilled", "completed"]);
    expect(state.reached).toBe("completed");
  });

  it("passes nothing for a repeated stage", () => {
    const { passed } = run(["paid", "paid"]);
    expect(passed[1]).toEqual([]);
  });

  it("passes nothing for a late stage and never lowers what was reached", () => {
    const { state, passed } = run(["fulfilled", "created", "paid"]);
    expect(passed).toEqual([["created", "paid", "fulfilled"], [], []]);
    expect(state.reached).toBe("fulfilled");
  });

  it("does not change the state it was given", () => {
    const before: StageState = { reached: "created", cancelled: false };
    advanceStage(before, "completed");
    expect(before).toEqual({ reached: "created", cancelled: false });
  });

  it("leaves the initial state untouched", () => {
    advanceStage(initialStageState, "completed");
    expect(initialStageState).toEqual({ reached: null, cancelled: false });
  });
});

describe("advanceStage on cancellation", () => {
  it("passes cancelled once and nothing when cancelled again", () => {
    const { state, passed } = run(["created", "cancelled", "cancelled"]);
    expect(passed).toEqual([["created"], ["cancelled"], []]);
    expect(state).toEqual({ reached: "created", cancelled: true });
  });

  it("passes cancelled even before any ladder stage was seen, without climbing", () => {
    const { state, passed } = advanceStage(initialStageState, "cancelled");
    expect(passed).toEqual(["cancelled"]);
    expect(state).toEqual({ reached: null, cancelled: true });
  });

  it("passes nothing for ladder events after a cancel that are not the order's newest version", () => {
    const { state, passed } = run(["created", "cancelled", "paid", "fulfilled", "completed"]);
    expect(passed.slice(2)).toEqual([[], [], []]);
    expect(state.reached).toBe("created");
  });

  it("reopens a cancelled order when its newest version is back on the ladder, and climbs from where it was", () => {
    // WooCommerce: a pending order cancelled when its stock hold ran out, then paid late.
    const cancelled = run(["created", "cancelled"]).state;
    const { state, passed } = advanceStage(cancelled, "paid", { reopens: true });
    expect(passed).toEqual(["paid"]);
    expect(state).toEqual({ reached: "paid", cancelled: false, reopened: 1 });
    // Restored at a stage it had reached (or WooCommerce's refunded status, read as paid): still
    // cancelled, nothing to run.
    const again = { ...state, cancelled: true };
    expect(advanceStage(again, "paid", { reopens: true })).toEqual({ state: again, passed: [] });
    expect(advanceStage(again, "created", { reopens: true })).toEqual({ state: again, passed: [] });
  });

  it("makes a cancellation after a reopening a transfer of its own", () => {
    const first = run(["created", "cancelled"]).state;
    expect(stageOccurrence("cancelled", first, "")).toBe("");
    const reopened = advanceStage(first, "paid", { reopens: true }).state;
    const again = advanceStage(reopened, "cancelled");
    expect(again.passed).toEqual(["cancelled"]);
    expect(stageOccurrence("cancelled", again.state, "")).toBe("reopened-1");
    expect(stageOccurrence("refunded", again.state, "r-9")).toBe("r-9");
    expect(stageOccurrence("paid", again.state, "")).toBe("");
  });
});

describe("advanceStage on refunds", () => {
  it("catches up to paid before passing refunded", () => {
    expect(advanceStage(initialStageState, "refunded").passed).toEqual(["created", "paid", "refunded"]);
    expect(advanceStage({ reached: "created", cancelled: false }, "refunded").passed).toEqual(["paid", "refunded"]);
  });

  it("records paid as reached after a refund on an unpaid order", () => {
    expect(advanceStage(initialStageState, "refunded").state.reached).toBe("paid");
  });

  it("passes only refunded when the order is already beyond paid", () => {
    const { state, passed } = advanceStage({ reached: "completed", cancelled: false }, "refunded");
    expect(passed).toEqual(["refunded"]);
    expect(state.reached).toBe("completed");
  });

  it("passes refunded on every call, once per refund", () => {
    const { passed } = run(["paid", "refunded", "refunded", "refunded"]);
    expect(passed.slice(1)).toEqual([["refunded"], ["refunded"], ["refunded"]]);
  });

  it("passes refunded without climbing the ladder on a cancelled order", () => {
    const { state, passed } = run(["created", "cancelled", "refunded"]);
    expect(passed[2]).toEqual(["refunded"]);
    expect(state).toEqual({ reached: "created", cancelled: true });
  });
});

describe("ladder helpers", () => {
  it("ranks no stage below every ladder stage, and the ladder in order", () => {
    expect(ladderRank(null)).toBe(0);
    expect(LADDER.map(ladderRank)).toEqual([1, 2, 3, 4]);
  });

  it("tells ladder stages from the stages beside the ladder", () => {
    expect(STAGES.filter(isLadderStage)).toEqual([...LADDER]);
    expect(isLadderStage("cancelled")).toBe(false);
    expect(isLadderStage("refunded")).toBe(false);
  });
});

describe("stageSortKey", () => {
  it("orders the ladder first, then cancelled, then refunded", () => {
    const shuffled: Stage[] = ["refunded", "completed", "cancelled", "created", "fulfilled", "paid"];
    const sorted = [...shuffled].sort((a, b) => stageSortKey(a) - stageSortKey(b));
    expect(sorted).toEqual(["created", "paid", "fulfilled", "completed", "cancelled", "refunded"]);
  });

  it("gives every stage a distinct key", () => {
    expect(new Set(STAGES.map(stageSortKey)).size).toBe(STAGES.length);
  });
});
