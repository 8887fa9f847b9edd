export * from "./daemon.js";
export * from "./options.js";
export * from "./deployments.js";
export * from "./function-store.js";
export * from "./function-logs.js";
export { createJsonLogger } from "./logger.js";
