export * from "./autoscaler.js";
