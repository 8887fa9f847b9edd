import type { Dashboard } from "@riff/dashboard";
import { RiffError } from "@riff/core";
import { sendJson } from "@riff/gateway";
import type { Route } from "./admin-api.js";

/**
 * The admin routes of the dashboard (token-only, like all of `/api/v1`): a one-time login link
 * for `riff dashboard`, and the series the dashboard plots, for scripts.
 */
export function dashboardRoutes(dashboard: Dashboard, url: () => string | undefined): Route[] {
  return [
    ["POST", /^dashboard\/login$/, async (_q, res) => {
      const base = url();
      if (base === undefined) throw new RiffError("RIFF_SHUTTING_DOWN", "the daemon is not listening yet");
      sendJson(res, 201, dashboard.loginLink(base));
    }],
    ["GET", /^series$/, async (_q, res, _p, query) => {
      const fn = query.get("function");
      if (fn === null || fn === "") {
        sendJson(res, 200, { functions: Object.fromEntries(dashboard.series.names().map((n) => [n, dashboard.series.get(n)])) });
        return;
      }
      sendJson(res, 200, await dashboard.seriesOf(fn));
    }],
  ];
}
