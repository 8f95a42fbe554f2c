/** A refund credited through Orderly and then deleted in WooCommerce is told to the tenant, once. */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { goneAlerts, refundGoneWorld, sendWoo } from "../helpers/woo-refund-gone";
import { eventually, settledTransfers } from "../helpers/world";

const SECRET = "woo_secret_refund_gone_0123";

describe("a WooCommerce refund deleted in the shop", () => {
  it("is told to the tenant once, when a newer version of the order no longer lists it", async () => {
    const { world, source, id, base, at } = await refundGoneWorld(SECRET);
    expect((await sendWoo(SECRET, source, { ...base, date_modified_gmt: at(0) })).status).toBe(200);
    const transfers = await settledTransfers(world, String(id), 2);
    expect(transfers.map((t) => t.stage).sort()).toEqual(["paid", "refunded"]);
    // A delivery of the same second without it may be older than the refund: nothing is told.
    expect((await sendWoo(SECRET, source, { ...base, refunds: [], date_modified_gmt: at(0) })).status).toBe(200);
    const stub = orderStub(env, orderObjectName(source, String(id)));
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(3);
    expect(await goneAlerts(world)).toHaveLength(0);
    // The refund is deleted in WooCommerce: the next version lists none.
    expect((await sendWoo(SECRET, source, { ...base, refunds: [], date_modified_gmt: at(1) })).status).toBe(200);
    const [mail] = await eventually(async () => {
      const mails = await goneAlerts(world);
      return mails.length > 0 ? mails : undefined;
    }, "the refund-gone alert");
    expect(mail!.subject).toBe(`[Orderly] Order ${id} from "Woo shop": refund 7351 deleted in the shop`);
    expect(mail!.text).toContain("reverse its credit note by hand");
    // A later version without it again tells nothing more.
    expect((await sendWoo(SECRET, source, { ...base, refunds: [], date_modified_gmt: at(2) })).status).toBe(200);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(5);
    expect(
      await runInDurableObject(
        stub,
        (_i, state) =>
          JSON.parse(state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'state'").one().value)
            .refundsGone,
      ),
    ).toEqual(["7351"]);
    expect(await goneAlerts(world)).toHaveLength(1);
  });
});
