export * from "./errors.js";
export * from "./headers.js";
export * from "./duration.js";
export * from "./logger.js";
export * from "./names.js";
export * from "./resources.js";
export * from "./schema.js";
export * from "./parse.js";
