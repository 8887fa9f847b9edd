/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * What library packages log through. They never call `console`: the daemon decides where lines
 * go. `child` adds fields (component, function, topic) to every line.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/** A logger that drops everything; the default for tests and libraries used alone. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
