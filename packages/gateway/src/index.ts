export * from "./gateway.js";
export * from "./reply-hub.js";
export * from "./http-util.js";
export * from "./idempotency.js";
export * from "./server-guard.js";
