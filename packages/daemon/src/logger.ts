import type { Logger, LogLevel } from "@riff/core";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The daemon's logger: one JSON object per line on stderr, which `riff system start` sends to
 * `daemon.log`.
 */
export function createJsonLogger(level: LogLevel = "info", fields: Record<string, unknown> = {}): Logger {
  const write = (lvl: LogLevel, msg: string, extra?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields, ...extra })}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (more) => createJsonLogger(level, { ...fields, ...more }),
  };
}
