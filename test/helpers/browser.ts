import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { RiffFixture } from "./riff.js";

/** Debian's chromium, which `.ci/run` installs; the browser tests drive it with playwright-core. */
export const CHROMIUM = "/usr/bin/chromium";

/** Launches Debian's chromium headless; fails (never skips) when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is not installed at ${CHROMIUM}: the dashboard's browser tests need Debian's chromium package (apt-get install chromium; .ci/run installs it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** What went wrong in pages: console.error calls, uncaught errors, CSP violations, and the browser's own error lines. */
export interface PageProblems {
  /** console.error calls, uncaught exceptions and CSP violations: none may ever happen. */
  script: string[];
  /** Requests answered >= 400 or that failed (`STATUS METHOD PATH`, `ERROR METHOD PATH`): a test says which it caused on purpose. */
  network: string[];
}

/**
 * Records every problem of the pages of `context`. An init script wraps console.error and
 * listens for CSP violations before any page script runs; Playwright adds uncaught errors
 * and the browser's console lines.
 */
export async function watchProblems(context: BrowserContext, problems: PageProblems): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as { __riffProblems: string[] };
    w.__riffProblems = [];
    const original = console.error.bind(console);
    console.error = (...args: unknown[]) => {
      w.__riffProblems.push(`console.error: ${args.map(String).join(" ")}`);
      original(...args);
    };
    document.addEventListener("securitypolicyviolation", (e) => w.__riffProblems.push(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  context.on("page", (page) => watchPage(page, problems));
}

function watchPage(page: Page, problems: PageProblems): void {
  page.on("pageerror", (err) => problems.script.push(`uncaught: ${err.message}`));
  page.on("console", (msg) => {
    // The browser's "Failed to load resource" lines repeat what the two listeners below record with the URL.
    if (msg.type() === "error" && !/^Failed to load resource/.test(msg.text())) problems.script.push(`console: ${msg.text()}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.network.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
  });
  page.on("requestfailed", (req) => {
    const error = req.failure()?.errorText ?? "failed";
    const path = new URL(req.url()).pathname;
    // Leaving a page cancels its live stream: that is how every page ends, not a failure.
    if (!(error === "net::ERR_ABORTED" && path === "/ui/stream")) problems.network.push(`${error} ${req.method()} ${path}`);
  });
}

/** The problems the init script saw in `page` (read before the page goes away). */
export async function scriptProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __riffProblems?: string[] }).__riffProblems ?? []);
}

/** Logs `context` in the way a user does: `riff dashboard --print-url`, then the link. */
export async function logIn(riff: RiffFixture, page: Page): Promise<void> {
  const r = await riff.cli(["dashboard", "--print-url"]);
  if (r.code !== 0) throw new Error(`riff dashboard failed: ${r.stderr}`);
  await page.goto(r.stdout.trim());
}
