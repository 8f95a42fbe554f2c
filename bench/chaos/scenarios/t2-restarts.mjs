// T2: T1's load while `wrangler dev` and its workerd children are SIGKILLed at seeded random
// points and restarted on the same persisted state. Deliveries that got no answer are re-sent by
// the driver, as a sender would. Pass: nothing acknowledged is lost, no effect is made twice.
// Before the load, a probe checks whether a local Queue message survives a restart.
import { sendPlanned, startWorld } from "../harness.mjs";
import { lifecycleDeliveries, lifecycleFlows, lifecyclePlan } from "../load.mjs";
import { send } from "../shopify.mjs";
import { seconds, sleep } from "../util.mjs";
import { settleAndCheck, summaryLine, T1_FAULTS, T1_VARS } from "./t1-duplicates-faults.mjs";

export default async function t2(ctx) {
  const { orders, shops, rate, kills = 3, probe = 0 } = ctx.load;
  const started = Date.now();
  const notes = [];
  if (probe) notes.push(await queueSurvivesRestart(ctx));
  const world = await startWorld(ctx, {
    name: "t2",
    vars: { ...T1_VARS, ...ctx.vars },
    shops,
    mock: { faults: T1_FAULTS },
    flows: lifecycleFlows,
  });
  try {
    const firstOrderId = 2_000_001;
    const { plan, windowMs } = lifecyclePlan(world.shops, { orders, firstOrderId, rate, random: ctx.random });
    // Kill points: seeded, spread over the send window, at least 8 s apart so each restart lands.
    const points = Array.from({ length: kills }, () => 0.1 + ctx.random() * 0.85)
      .sort((a, b) => a - b)
      .map((f) => Math.round(f * windowMs));
    for (let i = 1; i < points.length; i++) points[i] = Math.max(points[i], points[i - 1] + 8000);
    ctx.log(
      `  T2: ${orders} orders, ${plan.length} deliveries in ~${seconds(windowMs)} s; SIGKILL at ${points.map((p) => `${seconds(p)}s`).join(", ")}`,
    );
    const downtime = [];
    const t0 = Date.now();
    const monkey = (async () => {
      for (const at of points) {
        await sleep(Math.max(0, t0 + at - Date.now()));
        const down = Date.now();
        await world.worker.kill();
        const upMs = await world.worker.start();
        downtime.push(Date.now() - down);
        ctx.log(
          `    killed at ${seconds(down - t0)} s, back after ${seconds(Date.now() - down)} s (start took ${seconds(upMs)} s)`,
        );
      }
    })();
    let unanswered = 0;
    const sent = await sendPlanned(plan, {
      concurrency: 32,
      sendOptions: { retryMs: 500, giveUpMs: 300_000 },
      onResult: (r) => {
        if (r.tries > 1) unanswered++;
      },
    });
    await monkey;
    const figures = await settleAndCheck(ctx, world, { orders, plan, sent, firstOrderId });
    figures.kills = points.length;
    figures.downtimeMs = downtime;
    figures.resentByDriver = unanswered;
    return {
      ...figures,
      notes,
      line: `${summaryLine("T2 restarts", figures, Date.now() - started).replace(
        " ack p50",
        ` kills=${points.length} (down ${downtime.map((d) => `${seconds(d)}s`).join("/")}) re-sent-by-driver=${unanswered} ack p50`,
      )}`,
      durationMs: Date.now() - started,
    };
  } finally {
    await world.stop();
  }
}

/**
 * Does a Queue message survive `wrangler dev` being killed? A step answered with 429 and a
 * Retry-After of 10 s is retried by the queue after 10 s; the order's alarm would re-send it only
 * after 10 s + STEP_RESEND_AFTER_SECONDS (40 s here). Kill and restart right after the 429: a retry
 * near 10 s means the queue kept the message, one near 50 s means the alarm re-sent it.
 */
async function queueSurvivesRestart(ctx) {
  const world = await startWorld(ctx, {
    name: "t2-probe",
    vars: { ...ctx.vars, STEP_RESEND_AFTER_SECONDS: "40", RETRY_BASE_SECONDS: "1", RETRY_MAX_SECONDS: "1" },
    shops: 1,
    mock: { retryAfterSeconds: 10 },
    flows: (shop) => ({ created: [{ target: shop.economicId, action: "createOrder", settings: {} }] }),
  });
  try {
    const shop = world.shops[0];
    // The first request of the step gets a 429; the mock lets everything after it through.
    world.target.faults.set({ rateLimited: 1 });
    const limitedAt = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (world.target.faults.counts["429"] > 0) {
          world.target.faults.set({});
          clearInterval(timer);
          resolve(Date.now());
        }
      }, 20);
    });
    const [d] = lifecycleDeliveries(2_999_001, shop.secret);
    await send(shop.hookUrl, d);
    const at = await limitedAt;
    await sleep(1500); // the consumer reports the 429 and retries the message with a 10 s delay
    const before = world.target.stats.requests;
    await world.worker.kill();
    await world.worker.start();
    while (world.target.stats.requests === before && Date.now() - at < 90_000) await sleep(100);
    const after = seconds(Date.now() - at);
    const survived = Date.now() - at < 30_000;
    const note = survived
      ? `local Queue state SURVIVED a SIGKILL + restart: the delayed retry came back after ${after} s`
      : `local Queue state does not survive a SIGKILL + restart (messages live in memory): the step came back after ${after} s, re-sent by the order's Durable Object alarm (persisted), not by the queue`;
    ctx.log(`    probe: ${note}`);
    return note;
  } finally {
    await world.stop();
  }
}
