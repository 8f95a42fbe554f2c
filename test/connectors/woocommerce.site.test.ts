/**
 * The sending site (X-WC-Webhook-Source, WordPress's home URL) against the connection's Store URL:
 * origin and path are compared, so a staging copy in a folder of the shop's own host is another site
 * (the shop's home above a Store URL typed as one of its pages is the shop).
 */
import { describe, expect, it } from "vitest";
import { foreignSite } from "../../src/connectors/woocommerce/woocommerce.webhook";
import { woocommerceDelivery, woocommerceFixtures } from "../fixtures/woocommerce";

const SECRET = "woo_secret_site_0123456789";

const from = (source: string | null) =>
  woocommerceDelivery("order.updated", woocommerceFixtures.orderMinimal, SECRET, { "X-WC-Webhook-Source": source });

describe("WooCommerce sending site: origin and path", () => {
  it("keeps a staging copy in a folder of the shop's own host apart, naming its whole address", async () => {
    const reason = foreignSite(await from("https://shop.com/staging/4821/"), "https://shop.com");
    expect(reason).toMatch(/came from https:\/\/shop\.com\/staging\/4821, not the shop's address https:\/\/shop\.com set/);
    expect(reason).toMatch(/If the shop moved to https:\/\/shop\.com\/staging\/4821, update the connection's Store URL/);
    // A folder beside the shop's is another site too (a path prefix that is not a whole folder).
    expect(foreignSite(await from("https://shop.com/shop-staging/"), "https://shop.com/shop")).not.toBeNull();
    expect(foreignSite(await from("https://shop.com/shop/staging/"), "https://shop.com/shop")).not.toBeNull();
  });

  it("takes the shop's home when the Store URL was typed as one of its pages (a level above is the shop)", async () => {
    expect(foreignSite(await from("https://shop.com/"), "https://shop.com/shop")).toBeNull();
    expect(foreignSite(await from("https://shop.com/"), "https://shop.com/shop/cart/")).toBeNull();
    // The folder's letter case as typed does not matter.
    expect(foreignSite(await from("https://shop.com/Shop/"), "https://shop.com/shop")).toBeNull();
  });

  it("takes a shop in a folder, its trailing slashes aside, however scheme and www. were typed", async () => {
    for (const source of ["https://shop.com/shop/", "https://shop.com/shop", "http://www.shop.com/shop/"]) {
      expect(foreignSite(await from(source), "https://shop.com/shop"), source).toBeNull();
      expect(foreignSite(await from(source), "https://www.shop.com/shop//"), source).toBeNull();
    }
    expect(foreignSite(await from("https://shop.com/"), "http://shop.com")).toBeNull();
  });

  it("keeps another port apart: it is another origin", async () => {
    expect(foreignSite(await from("https://shop.com:8443/"), "https://shop.com")).toMatch(/came from https:\/\/shop\.com:8443,/);
    expect(foreignSite(await from("https://shop.com:8443/"), "https://shop.com:8443/")).toBeNull();
  });

  it("reads an address that is not http(s) as unreadable, as it reads one that is no URL", async () => {
    expect(foreignSite(await from("ftp://shop.com/"), "https://shop.com")).toMatch(/came from ftp:\/\/shop\.com\/,/);
  });
});
