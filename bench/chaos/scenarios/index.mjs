// The scenarios in the order they run; ids match notes/webhook-delivery.md section 6.2.
import t1 from "./t1-duplicates-faults.mjs";
import t2 from "./t2-restarts.mjs";
import t3 from "./t3-ordering.mjs";
import t4 from "./t4-poison.mjs";
import t5 from "./t5-forged-replay.mjs";
import t7 from "./t7-backpressure.mjs";
import t8 from "./t8-sizes.mjs";

export const SCENARIOS = [
  { id: "t1", title: "T1 duplicates+faults", run: t1 },
  { id: "t2", title: "T2 restarts", run: t2 },
  { id: "t3", title: "T3 ordering", run: t3 },
  { id: "t4", title: "T4 poison", run: t4 },
  { id: "t5", title: "T5 forged+replayed", run: t5 },
  { id: "t7", title: "T7 backpressure", run: t7 },
  { id: "t8", title: "T8 sizes", run: t8 },
];
