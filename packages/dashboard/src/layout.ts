import { PAGE_SCRIPTS, PLOT_SCRIPTS } from "./assets.js";
import { html, raw, type HtmlValue, type SafeHtml } from "./html.js";

/** htmx without eval (CSP), without injected inline styles (CSP), and only to this origin. */
const HTMX_CONFIG = JSON.stringify({ allowEval: false, allowScriptTags: false, includeIndicatorStyles: false, selfRequestsOnly: true, historyCacheSize: 0 });

/** The sections of the nav, by view. */
const NAV: [string, string, string][] = [
  ["overview", "/ui/", "Overview"],
  ["functions", "/ui/functions", "Functions"],
  ["topics", "/ui/topics", "Topics"],
  ["topology", "/ui/topology", "Topology"],
  ["dead-letters", "/ui/dead-letters", "Dead letters"],
  ["invokers", "/ui/invokers", "Invokers"],
  ["system", "/ui/system", "System"],
];

/** What a page is: its title, its nav section, its body, and what its stream watches. */
export interface PageOptions {
  title: string;
  section: string;
  body: HtmlValue;
  /** The query of `/ui/stream` (e.g. `watch=function&function=square&logs=square`); none: no live updates. */
  stream?: string | undefined;
  /** Loads uPlot (the function page only, so the other pages stay light). */
  plots?: boolean;
}

/** A whole HTML page of the dashboard. */
export function page(o: PageOptions): SafeHtml {
  const scripts = [...(o.plots === true ? PLOT_SCRIPTS : []), ...PAGE_SCRIPTS];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · riff</title>
<meta name="htmx-config" content="${HTMX_CONFIG}">
<link rel="icon" href="/ui/assets/favicon.svg"><link rel="stylesheet" href="/ui/assets/dashboard.css">${o.plots === true ? raw('<link rel="stylesheet" href="/ui/assets/uPlot.min.css">') : ""}
${scripts.map((s) => html`<script src="/ui/assets/${s}"></script>`)}
</head>
<body data-section="${o.section}"${o.stream === undefined ? "" : html` hx-ext="sse" sse-connect="/ui/stream?${o.stream}"`}>
<div id="banner" class="banner" data-testid="reconnecting" hidden>Connection to riff lost: reconnecting…</div>
<header><a class="brand" href="/ui/">riff</a><nav>${NAV.map(([id, href, label]) => html`<a href="${href}"${id === o.section ? raw(' aria-current="page"') : ""}>${label}</a>`)}</nav></header>
<main>${o.body}</main>
</body></html>`;
}

/** A page that says what went wrong and how to fix it, for bad input and missing things. */
export function errorPage(title: string, message: string, hint: string | undefined, code: string): SafeHtml {
  return page({
    title,
    section: "",
    body: html`<section class="error" data-testid="error"><h1>${title}</h1><p>${message}</p>${hint === undefined ? "" : html`<p class="hint">${hint}</p>`}<p class="code">${code}</p></section>`,
  });
}

/** The page shown without a session: how to get one. */
export function loginPage(problem: string | undefined): SafeHtml {
  return page({
    title: "Log in",
    section: "",
    body: html`<section class="login" data-testid="login"><h1>Log in to the riff dashboard</h1>
${problem === undefined ? "" : html`<p class="problem">${problem}</p>`}
<p>Run this on the machine where riff runs; it opens the dashboard with a one-time link:</p>
<pre>riff dashboard</pre><p>Or print the link instead of opening a browser: <code>riff dashboard --print-url</code></p></section>`,
  });
}
