export * from "./content.js";
export * from "./replica.js";
export * from "./framed-replica.js";
export * from "./invoker.js";
export * from "./offset-tracker.js";
export * from "./function-runner.js";
export * from "./partition-dispatcher.js";
export { builtinInvokers } from "./invokers/index.js";
export * from "./replicas/index.js";
