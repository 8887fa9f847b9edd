import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, logIn, scriptProblems, watchProblems, type PageProblems } from "./helpers/browser.js";
import { deployNode } from "./helpers/functions.js";
import { httpRequest, rawRequest } from "./helpers/raw-http.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";

// The browser checks of docs/dashboard.md (ux.md §6), against a real daemon and real functions.
describe("the dashboard in a browser", () => {
  let riff: RiffFixture;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: PageProblems = { script: [], network: [] };
  /** Network errors this file causes on purpose (a used login link, a function that throws). */
  const expectedNetwork: RegExp[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    riff = await startRiff();
    context = await browser.newContext();
    await watchProblems(context, problems);
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await riff?.[Symbol.asyncDispose]();
  });

  /** Marks the document, to show later that it was never reloaded. */
  const mark = () => page.evaluate(() => ((window as unknown as { __mark: number }).__mark = 42));
  const stillMarked = () => page.evaluate(() => (window as unknown as { __mark?: number }).__mark === 42);
  const text = (selector: string) => page.locator(selector).first().innerText();

  it("without a session /ui shows the login page, the API answers 401 without its token, and a riff dashboard link works once only", async () => {
    const anonymous = await browser.newPage();
    await anonymous.goto(`${riff.url}/ui/functions`);
    await anonymous.getByTestId("login").waitFor();
    expect(await anonymous.innerText("body")).toContain("riff dashboard");
    expect((await fetch(`${riff.url}/api/v1/functions`)).status).toBe(401);

    const link = (await riff.cli(["dashboard", "--print-url"])).stdout.trim();
    expect(link).toMatch(new RegExp(`^${riff.url}/ui/login\\?token=[\\w-]+$`));
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe("/ui/");
    await page.getByTestId("tile-functions").waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "riff_session", httpOnly: true, sameSite: "Strict", path: "/ui" });
    // The cookie never opens the admin API.
    const session = `riff_session=${cookie?.value ?? ""}`;
    expect((await fetch(`${riff.url}/api/v1/functions`, { headers: { cookie: session } })).status).toBe(401);
    // With the cookie, still no page for a foreign Host (DNS rebinding), and no change posted from another origin.
    const host = new URL(riff.url).host;
    expect((await rawRequest(riff.url, httpRequest("GET", "/ui/", { host: "evil.example", cookie: session }))).status).toBe(403);
    const forged = await rawRequest(riff.url, httpRequest("POST", "/ui/dead-letters/square/purge", { host, cookie: session, origin: "http://evil.example", "content-type": "application/x-www-form-urlencoded" }, "confirm=square"));
    expect(forged.status).toBe(403);
    expect(forged.text).toContain("RIFF_CROSS_ORIGIN");

    expectedNetwork.push(/^401 GET \/ui\/login$/);
    expect((await anonymous.goto(link))?.status()).toBe(401);
    await anonymous.getByTestId("login").waitFor();
    expect(await anonymous.innerText("body")).toContain("not valid");
    expect(problems.script.concat(await scriptProblems(anonymous))).toEqual([]);
    await anonymous.close();
  });

  it("a created function's row appears within 2 s without a reload, with the cells of riff list -o json, and a publish shows within 2 s", async () => {
    await page.goto(`${riff.url}/ui/functions`);
    await page.getByTestId("no-functions").waitFor();
    await mark();
    const created = await deployNode(riff, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"]);
    expect(created.code).toBe(0);
    await page.getByTestId("fn-row-square").waitFor({ timeout: 2000 });
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "3", "--reply"])).stdout).toBe("9\n");
    const [f] = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; invoker: string; inputs: string[]; output?: string; ready: number; desired: number; maxReplicas?: number; lag: number; status: string }[];
    const cells = { name: f?.name, invoker: f?.invoker, io: `${f?.inputs.join(",")} → ${f?.output ?? "-"}`, replicas: `${f?.ready}/${f?.desired}/${f?.maxReplicas ?? "-"}`, lag: String(f?.lag), status: f?.status };
    await page.waitForFunction((want) => {
      const row = document.querySelector('[data-testid="fn-row-square"]');
      const cell = (c: string) => row?.querySelector(`[data-col="${c}"]`)?.textContent?.trim();
      return Object.entries(want).every(([k, v]) => cell(k) === v);
    }, cells, { timeout: 2000 });

    await page.goto(`${riff.url}/ui/topics`);
    await mark();
    const before = Number(await text('[data-testid="topic-row-numbers"] [data-col="messages"]'));
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "4"])).code).toBe(0);
    await page.waitForFunction((n) => document.querySelector('[data-testid="topic-row-numbers"] [data-col="messages"]')?.textContent === String(n), before + 1, { timeout: 2000 });
    expect(await stillMarked()).toBe(true);
  });

  it("the invoke box posts to the gateway: 7 gives 49 with a latency, and a throwing function shows 500 and the error code", async () => {
    await page.goto(`${riff.url}/ui/functions/square`);
    await page.getByTestId("invoke-body").fill("7");
    await page.getByTestId("invoke-send").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="invoke-reply"]')?.textContent === "49");
    expect(await text('[data-testid="invoke-status"]')).toBe("200");
    expect(await text('[data-testid="invoke-latency"]')).toMatch(/^\d+ ms$/);

    expect((await deployNode(riff, "thrower", 'module.exports = () => { throw new Error("no") }\n', ["--input", "throws", "--retries", "0"])).code).toBe(0);
    expectedNetwork.push(/^500 POST \/requests\/throws$/);
    await page.goto(`${riff.url}/ui/functions/thrower`);
    await page.getByTestId("invoke-body").fill("1");
    await page.getByTestId("invoke-send").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="invoke-status"]')?.textContent !== "", undefined, { timeout: 30_000 });
    expect(await text('[data-testid="invoke-status"]')).toBe("500");
    expect(await text('[data-testid="invoke-code"]')).toBe("RIFF_FUNCTION_ERROR");
  });

  it("retries 2 on a function that always throws gives attempts=3 in Dead letters; after a fix, Redrive empties it", async () => {
    const flaky = await deployNode(riff, "flaky", 'module.exports = () => { throw new Error("always") }\n', ["--input", "jobs", "--retries", "2"]);
    expect(flaky.code).toBe(0);
    await page.goto(`${riff.url}/ui/dead-letters`);
    await mark();
    expect((await fetch(`${riff.url}/messages/jobs`, { method: "POST", body: "job-1" })).status).toBe(202);
    const attempts = page.locator('[data-testid="dead-letters-flaky"] [data-col="attempts"]');
    await attempts.waitFor({ timeout: 30_000 });
    expect(await attempts.innerText()).toBe("3");
    expect(await stillMarked()).toBe(true);

    writeFileSync(join(flaky.dir, "flaky.js"), "module.exports = (x) => x\n");
    expect((await riff.cli(["update", "-n", "flaky"])).code).toBe(0);
    await page.getByTestId("redrive-flaky").click();
    await page.getByTestId("flash").waitFor();
    expect(await text('[data-testid="flash"]')).toContain("Redrove 1 dead letter of flaky");
    expect(await page.getByTestId("dead-letters-flaky").count()).toBe(0);
  });

  it("keyed messages list from offset 0, and a published <img onerror> payload stays text and never runs", async () => {
    const payload = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
    expect((await riff.cli(["topics", "create", "inbox"])).code).toBe(0);
    for (const [key, body] of [["k1", "plain"], ["<b>k2</b>", payload]]) {
      expect((await fetch(`${riff.url}/messages/inbox`, { method: "POST", headers: { "x-riff-key": key ?? "" }, body })).status).toBe(202);
    }
    await page.goto(`${riff.url}/ui/topics/inbox?partition=0&from=0`);
    const rows = page.getByTestId("msg-row");
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).getByTestId("msg-payload").innerText()).toBe(payload);
    expect(await rows.nth(1).innerText()).toContain("<b>k2</b>");
    expect(await page.locator("main img, main script, main b").count()).toBe(0);
    expect(await page.title()).not.toBe("pwned");
  });

  it("the topology of t1→A→t2→B→t3 has 5 nodes and 4 edges", async () => {
    expect((await deployNode(riff, "a", "module.exports = (x) => x\n", ["--input", "t1", "--output", "t2"])).code).toBe(0);
    expect((await deployNode(riff, "b", "module.exports = (x) => x\n", ["--input", "t2", "--output", "t3"])).code).toBe(0);
    await page.goto(`${riff.url}/ui/topology`);
    for (const id of ["topic-t1", "fn-a", "topic-t2", "fn-b", "topic-t3"]) expect(await page.getByTestId(`topo-node-${id}`).count()).toBe(1);
    for (const id of ["t1-a", "a-t2", "t2-b", "b-t3"]) expect(await page.getByTestId(`topo-edge-${id}`).count()).toBe(1);
    const pipeline = ["t1", "a", "t2", "b", "t3"];
    const nodes = await page.locator('[data-testid^="topo-node-"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-testid") ?? ""));
    expect(nodes.filter((n) => pipeline.includes(n.replace(/^topo-node-(topic|fn)-/, ""))).length).toBe(5);
    // Under load the edges show a live rate, without a reload.
    await mark();
    for (let i = 0; i < 5; i++) expect((await fetch(`${riff.url}/messages/t1`, { method: "POST", body: String(i) })).status).toBe(202);
    await page.waitForFunction(() => Number.parseFloat(document.querySelector('[data-testid="topo-rate-t1-a"]')?.textContent ?? "0") > 0, undefined, { timeout: 10_000 });
    expect(await stillMarked()).toBe(true);
  });

  it("the first call after idle shows a cold badge with an init duration, the next one none", async () => {
    expect((await deployNode(riff, "sleepy", "module.exports = (x) => x * 2\n", ["--input", "naps", "--idle-timeout", "1s"])).code).toBe(0);
    await page.goto(`${riff.url}/ui/functions/sleepy`);
    // Scaled to zero: the replicas table says so (live).
    await page.waitForFunction(() => document.querySelector('[data-testid="replicas"] tbody')?.textContent?.includes("no replicas") === true, undefined, { timeout: 30_000 });
    for (const [body, reply] of [["5", "10"], ["6", "12"]]) {
      await page.getByTestId("invoke-body").fill(body);
      await page.getByTestId("invoke-send").click();
      await page.waitForFunction((r) => document.querySelector('[data-testid="invoke-reply"]')?.textContent === r, reply);
    }
    const rows = page.getByTestId("invocation");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="invocation"]').length === 2, undefined, { timeout: 5000 });
    // Newest first: the warm second call, then the cold first one.
    expect(await rows.nth(0).getByTestId("cold-badge").count()).toBe(0);
    expect(await rows.nth(1).getByTestId("cold-badge").innerText()).toMatch(/^cold · init \d+(\.\d+)?(ms|s)$/);
  });

  it("the logs of 2 replicas show [r1] and [r2]; the replica filter and Pause work", async () => {
    const src = 'module.exports = (x) => { console.log("echo " + x); return x }\n';
    expect((await deployNode(riff, "twin", src, ["--input", "pairs", "--partitions", "2", "--min-replicas", "2"])).code).toBe(0);
    await page.goto(`${riff.url}/ui/functions/twin`);
    const logs = page.getByTestId("logs");
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid="logs"]')?.textContent ?? "";
      return t.includes("[r1] ") && t.includes("[r2] ");
    }, undefined, { timeout: 10_000 });
    await page.getByTestId("log-replica").selectOption("r2");
    const visible = await logs.locator("div:not([hidden])").allInnerTexts();
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((l) => l.startsWith("[r2] "))).toBe(true);
    await page.getByTestId("log-replica").selectOption("");

    await page.getByTestId("log-pause").check();
    expect((await riff.cli(["publish", "--input", "pairs", "--data", "paused-line", "--reply"])).stdout).toBe("paused-line\n");
    // The line reached the log (riff logs says so) while the paused pane did not take it.
    await expect.poll(async () => (await riff.cli(["logs", "-n", "twin"])).stdout, { timeout: 10_000 }).toContain("echo paused-line");
    expect(await logs.innerText()).not.toContain("echo paused-line");
    await page.getByTestId("log-pause").uncheck();
    await page.waitForFunction(() => (document.querySelector('[data-testid="logs"]')?.textContent ?? "").includes("echo paused-line"));
  });

  it("after 50 messages the lag rises and returns to 0, replicas rise from 0 on a decision that names the lag, and idle scales to 0", async () => {
    const slow = "module.exports = (x) => { const end = Date.now() + 200; while (Date.now() < end); return x }\n";
    expect((await deployNode(riff, "slow", slow, ["--input", "work", "--partitions", "2", "--max-replicas", "2", "--idle-timeout", "2s"])).code).toBe(0);
    await page.goto(`${riff.url}/ui/functions/slow`);
    await mark();
    const status = () => page.waitForFunction((re) => new RegExp(re).test(document.querySelector('[data-testid="fn-status"]')?.textContent ?? ""), undefined, { timeout: 30_000 });
    const noReplicas = () => page.waitForFunction(() => document.querySelector('[data-testid="replicas"] tbody')?.textContent?.includes("no replicas") === true, undefined, { timeout: 30_000 });
    await noReplicas();
    await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${riff.url}/messages/work`, { method: "POST", headers: { "x-riff-key": `k${i}` }, body: String(i) })));
    const lag = (n: string) => page.waitForFunction((want) => {
      const m = /lag (\d+)$/.exec(document.querySelector('[data-testid="fn-status"]')?.textContent?.trim() ?? "");
      return m !== null && (want === ">0" ? Number(m[1]) > 0 : m[1] === want);
    }, n, { timeout: 30_000 });
    await lag(">0");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="replica-r"]').length > 0, undefined, { timeout: 10_000 });
    await lag("0");
    const decision = (code: string, why: string) => page.waitForFunction(([c, w]) => [...document.querySelectorAll('[data-testid="decisions"] tbody tr')].some((tr) => {
      const cells = [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "");
      return cells[2] === c && new RegExp(w ?? "").test(cells[3] ?? "");
    }), [code, why], { timeout: 30_000 });
    await decision("backlog", "^backlog \\d+ on \\d partition");
    await decision("idle", "^idle for");
    await noReplicas();
    expect(await page.locator('[data-testid="decisions"] tbody tr', { hasText: "idle" }).first().innerText()).toContain("→ 0");
    expect(await stillMarked()).toBe(true);
  });

  it("bad input gets an error page or JSON that names the field, never a crash", async () => {
    const bad = await page.goto(`${riff.url}/ui/topics/numbers?limit=abc`);
    expect(bad?.status()).toBe(400);
    expect(await page.getByTestId("error").innerText()).toContain("'limit' must be a whole number from 1 to 500");
    expect((await page.goto(`${riff.url}/ui/functions/nope`))?.status()).toBe(404);
    expect(await page.getByTestId("error").innerText()).toContain("function 'nope' does not exist");
    const stream = await page.evaluate(async () => {
      const r = await fetch("/ui/stream?watch=bogus");
      return { status: r.status, body: await r.text() };
    });
    expect(stream.status).toBe(400);
    expect(stream.body).toContain("'watch' must be one of");
    const series = await fetch(`${riff.url}/api/v1/series?function=nope`, { headers: { authorization: `Bearer ${riff.token}` } });
    expect(series.status).toBe(404);
    expect(((await series.json()) as { error: { details: unknown } }).error.details).toEqual({ field: "function" });
    const good = (await (await fetch(`${riff.url}/api/v1/series?function=square`, { headers: { authorization: `Bearer ${riff.token}` } })).json()) as { t: number[]; success: number[] };
    expect(good.t.length).toBe(good.success.length);
    expect(good.success.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expectedNetwork.push(/^400 GET \/ui\/topics\/numbers$/, /^404 GET \/ui\/functions\/nope$/, /^400 GET \/ui\/stream$/);
  });

  it("first-load JS is under 60 KB gzipped (overview and function page)", async () => {
    for (const path of ["/ui/", "/ui/functions/square"]) {
      const fresh = await context.newPage();
      const scripts: Promise<number>[] = [];
      fresh.on("response", (res) => {
        if (res.request().resourceType() === "script") scripts.push(res.body().then((b) => gzipSync(b).length));
      });
      await fresh.goto(`${riff.url}${path}`, { waitUntil: "load" });
      const total = (await Promise.all(scripts)).reduce((a, b) => a + b, 0);
      expect(scripts.length).toBeGreaterThanOrEqual(3);
      expect(total).toBeLessThan(60 * 1024);
      problems.script.push(...(await scriptProblems(fresh)));
      await fresh.close();
    }
  });

  it("no console.error, uncaught error or CSP violation happened in any page of the run", async () => {
    problems.script.push(...(await scriptProblems(page)));
    expect(problems.script).toEqual([]);
    // The browser's own lines are only for the requests that failed on purpose above.
    expect(problems.network.filter((n) => !expectedNetwork.some((re) => re.test(n)))).toEqual([]);
  });
});
