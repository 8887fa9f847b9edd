import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../packages/broker-nats/src/nats-server.test-util.js";
import { launchChromium, logIn, scriptProblems, watchProblems, type PageProblems } from "./helpers/browser.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";
import { until } from "./helpers/until.js";

// The daemon runs as its own process (riff system start) so that it can be killed with -9.
describe("the dashboard when the daemon dies", () => {
  let riff: RiffFixture;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    // A port free now, so the daemon can be started again on the same one after the kill.
    const [port] = await freePorts(1, "127.0.0.1");
    riff = await startRiff(["--port", String(port)]);
  });
  afterAll(async () => {
    await browser?.close();
    await riff?.[Symbol.asyncDispose]();
  });

  it("shows 'reconnecting' within 3 s of kill -9, and after a restart on the same port the data comes back without a reload", async () => {
    const context = await browser.newContext();
    const problems: PageProblems = { script: [], network: [] };
    await watchProblems(context, problems);
    // Requests in flight besides the live stream: the kill waits for them, so the only request
    // it cuts is the stream.
    const pending = new Set<Request>();
    context.on("request", (r) => void (r.url().includes("/ui/stream") || pending.add(r)));
    for (const ended of ["requestfinished", "requestfailed"] as const) context.on(ended, (r) => void pending.delete(r));
    const page = await context.newPage();
    expect((await deployNode(riff, "before", "module.exports = (x) => x\n", ["--input", "in1"])).code).toBe(0);
    // Chromium fetches each page's icon after the page's load, and a navigation (or the kill)
    // that comes first cuts the fetch: each page's own icon is waited for before moving on.
    const icons: Request[] = [];
    context.on("requestfinished", (r) => void (r.url().endsWith("/ui/assets/favicon.svg") && icons.push(r)));
    const iconFetched = async () => {
      const documentStart = await page.evaluate(() => performance.timeOrigin);
      await until("the page's icon fetched", () => icons.some((r) => r.timing().startTime >= documentStart));
    };
    await logIn(riff, page);
    await iconFetched();
    await page.goto(`${riff.url}/ui/functions`);
    await page.getByTestId("fn-row-before").waitFor();
    await iconFetched();
    await page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 42));
    const banner = page.getByTestId("reconnecting");
    expect(await banner.isVisible()).toBe(false);

    const url = riff.url;
    await until("the page's requests besides the stream finished", () => pending.size === 0);
    riff.kill();
    await banner.waitFor({ state: "visible", timeout: 3000 });

    await riff.restart();
    expect(riff.url).toBe(url);
    await banner.waitFor({ state: "hidden", timeout: 15_000 });
    // New data reaches the same document: a function made after the restart appears live.
    expect((await deployNode(riff, "after", "module.exports = (x) => x\n", ["--input", "in2"])).code).toBe(0);
    await page.getByTestId("fn-row-after").waitFor({ timeout: 2000 });
    expect(await page.evaluate(() => (window as unknown as { __mark?: number }).__mark)).toBe(42);

    // No script error at all; the only failed requests are the stream cut by the kill and its reconnects while riff was down.
    expect([...problems.script, ...(await scriptProblems(page))]).toEqual([]);
    expect(problems.network.filter((n) => !/^net::ERR_(INCOMPLETE_CHUNKED_ENCODING|CONNECTION_REFUSED) GET \/ui\/stream$/.test(n))).toEqual([]);
    await context.close();
  });
});
