export * from "./daemon.js";
export * from "./options.js";
export * from "./documents.js";
export * from "./function-logs.js";
export { createJsonLogger } from "./logger.js";
