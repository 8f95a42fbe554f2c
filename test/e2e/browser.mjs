// Browser helpers for the e2e tests: Debian's Chromium through playwright-core, screenshots, axe-core.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, "../..");
export const SHOTS = path.join(root, "test-results", "screenshots");
const DOC_SHOTS = path.join(root, "docs", "screenshots");
const AXE = require.resolve("axe-core/axe.min.js");

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A fresh context; CSP is bypassed only so axe-core can be injected as a script tag. */
export function newContext(browser) {
  return browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
}

export async function shot(page, name, { doc = false } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  if (doc && process.env.ORDERLY_DOC_SCREENSHOTS === "1") {
    mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(DOC_SHOTS, `${name}.png`), fullPage: false });
  }
}

/** Runs axe-core on the page; returns its serious and critical violations. */
export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    const axe = /** @type {any} */ (globalThis).axe;
    return axe.run(document, { resultTypes: ["violations"] });
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")}`,
    );
}

/** Presses Tab until the focused element matches, as a keyboard user would; fails after `max` presses. */
export async function tabTo(page, matches, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const hit = await page.evaluate(matches);
    if (hit) return;
  }
  throw new Error(`Tab never reached the element after ${max} presses`);
}
