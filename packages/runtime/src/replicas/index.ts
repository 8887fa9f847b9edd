/** Replica kinds beyond framed ones, for built-in and user-defined invokers. */
export { ExecReplica, type ExecReplicaOptions } from "./exec-replica.js";
export { LineReplica } from "./line-replica.js";
export { HttpReplica, type HttpReplicaOptions, DEFAULT_HTTP_PROBE_INTERVAL_MS } from "./http-replica.js";
export { DeferredReplica } from "./deferred-replica.js";
export { findExecutable } from "./find-executable.js";
export { replyTypeFor } from "./content-check.js";
