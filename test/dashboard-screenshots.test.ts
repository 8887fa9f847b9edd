import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, logIn } from "./helpers/browser.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";

/** `npm run screenshots` sets this to docs/images; otherwise the pictures go to a temporary folder. */
const KEEP = process.env["RIFF_SCREENSHOTS_DIR"];
const OUT = KEEP === undefined ? mkdtempSync(join(tmpdir(), "riff-shots-")) : resolve(KEEP);

// The README's pictures: the overview and a function page of a small pipeline under load.
describe("dashboard screenshots", () => {
  let riff: RiffFixture;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    riff = await startRiff();
  });
  afterAll(async () => {
    await browser?.close();
    await riff?.[Symbol.asyncDispose]();
    if (KEEP === undefined) rmSync(OUT, { recursive: true, force: true });
  });

  it("takes the overview and the function page of square under load", async () => {
    expect((await deployNode(riff, "square", "module.exports = (x) => { console.log(`squaring ${x}`); return x ** 2 }\n", ["--input", "numbers", "--output", "squares"])).code).toBe(0);
    expect((await deployNode(riff, "total", "let sum = 0\nmodule.exports = (x) => (sum += Number(x))\n", ["--input", "squares"])).code).toBe(0);
    const series = async () => (await (await fetch(`${riff.url}/api/v1/series?function=square`, { headers: { authorization: `Bearer ${riff.token}` } })).json()) as { success: number[] };
    // Load until the plots have ten seconds that saw calls.
    for (let i = 0; (await series()).success.filter((n) => n > 0).length < 10; i++) {
      await Promise.all(Array.from({ length: 5 }, (_, j) => fetch(`${riff.url}/requests/numbers`, { method: "POST", body: String(i * 5 + j) })));
    }
    mkdirSync(OUT, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await logIn(riff, page);
    await page.getByTestId("tile-functions").waitFor();
    await page.screenshot({ path: join(OUT, "dashboard-overview.png"), fullPage: true });
    await page.goto(`${riff.url}/ui/functions/square`);
    await page.locator(".plot canvas").nth(2).waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-testid="logs"]')?.textContent ?? "").includes("squaring"));
    await page.screenshot({ path: join(OUT, "dashboard-function.png"), fullPage: true });
  });
});
