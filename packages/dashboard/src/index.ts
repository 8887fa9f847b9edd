export { Dashboard, TICK_MS, type DashboardOptions } from "./dashboard.js";
export type { DashboardSources } from "./sources.js";
export { SeriesStore, SERIES_CAPACITY, type FunctionSeries, type SeriesSample } from "./series.js";
export { DashboardSessions, SESSION_COOKIE } from "./sessions.js";
export { html, raw, escapeHtml, SafeHtml } from "./html.js";
