/** The alert for a signed delivery kept instead of booked (a source that never retries): throttled per source. */
import { env } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, mailOutbox } from "../../src/db/schema";
import { groupedAlertText, refusedDeliveryAlertText } from "../../src/notifications/alert-emails";
import { flushAlertGroups } from "../../src/notifications/notify-tenant";
import { alertRefusedDelivery } from "../../src/notifications/refused-alerts";
import { MINUTE, seedTenant, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;

describe("refused delivery alerts", () => {
  it("mails the first at once, with why, what to do and where the delivery is kept; the rest of the window as one grouped email", async () => {
    const seeded = await seedTenant();
    // The alert claims its dead letter (the marker), so each is a kept row.
    const ids: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const row = await database(env)
        .insert(deadLetters)
        .values({ tenantId: seeded.tenantId, body: { kind: "refused_delivery" }, reason: "r", createdAt: T0 })
        .returning({ id: deadLetters.id })
        .get();
      ids.push(row.id);
    }
    const refused = (n: number) => ({
      tenantId: seeded.tenantId,
      connectionId: seeded.shop,
      deadLetterId: ids[n - 1]!,
      order: `#${1000 + n}`,
      reason: `The connection "Shop" is disabled, so the order was not processed. Enable the connection in Orderly (${n}).`,
    });
    await alertRefusedDelivery(env, refused(1), T0);
    await alertRefusedDelivery(env, refused(2), T0 + MINUTE);
    await alertRefusedDelivery(env, refused(3), T0 + 2 * MINUTE);
    const mails = () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(
          and(eq(mailOutbox.tenantId, seeded.tenantId), like(mailOutbox.idempotencyKey, `alert/${seeded.tenantId}/refused:%`)),
        );
    const first = await mails();
    expect(first).toHaveLength(1);
    expect(first[0]?.subject).toBe('[Orderly] Order #1001 from "Shop" was kept, not booked');
    expect(first[0]?.text).toMatch(/Why, and what to do: The connection "Shop" is disabled/);
    expect(first[0]?.text).toContain(`/dead-letters/${ids[0]}`);

    await flushAlertGroups(env, T0 + WINDOW + MINUTE, WINDOW);
    const grouped = (await mails()).find((m) => m.idempotencyKey.endsWith("/grouped"));
    expect(grouped?.subject).toMatch(/2 more deliveries from "Shop" kept, not booked/);
    expect(grouped?.text).toContain(`#1002: dead letter ${ids[1]}: The connection "Shop" is disabled`);
    expect(grouped?.text).toContain("/dead-letters");
  });

  it("words a delivery whose order could not be read, and a grouped email of one", () => {
    expect(
      refusedDeliveryAlertText({ sourceName: "Shop", order: null, deadLetterId: 7, reason: "Not JSON.", windowMs: WINDOW })
        .subject,
    ).toBe('A delivery from "Shop" was kept, not booked');
    const one = groupedAlertText({
      kind: "refused",
      connectionId: "c",
      connectionName: "Shop",
      count: 1,
      samples: [],
      windowStart: T0,
      now: T0 + WINDOW,
    });
    expect(one.subject).toMatch(/^1 more delivery from "Shop"/);
  });
});
