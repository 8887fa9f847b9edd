import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { poolEnv, PoolSlot } from "../../warm-pool.js";
import { compiledPath } from "./entry.js";
import { prepareNode } from "./prepare.js";

// The bundle (scripts/bundle.mjs) starts faster; the plain build works too, for development.
const BUNDLE = fileURLToPath(new URL("./shim.bundle.cjs", import.meta.url));
const SHIM = existsSync(BUNDLE) ? BUNDLE : fileURLToPath(new URL("./shim.js", import.meta.url));

/**
 * A young generation of 2 MiB a half instead of V8's 16: a replica's calls allocate little
 * that lives, and what the young generation grew to under load it keeps for good, idle or not
 * (the idle collection, idle-trim.ts, cannot shrink it). docs/performance.md, "Memory".
 */
const NODE_FLAGS = ["--max-semi-space-size=2"];

const pool = new PoolSlot("node", "its processes cannot start");

/** A generic Node replica for the pool: the shim, waiting for LOAD, with no function's environment yet. */
function poolLaunch(dir: string): LaunchSpec {
  return { command: process.execPath, args: [...NODE_FLAGS, SHIM], env: poolEnv({ RIFF_POOL: "1" }), cwd: dir };
}

/** Node.js: CommonJS or ESM files, sync, promise or async functions. */
export const nodeInvoker: Invoker = {
  name: "node",
  description: "Node.js functions: module.exports = fn or export default fn",
  matchers: ["package.json", "*.js", "*.mjs", "*.cjs", "*.ts"],
  defaultConcurrency: 16,
  prepare: prepareNode,
  createReplica(fn, options) {
    const env = baseEnv(fn);
    env["RIFF_FUNCTION_ARTIFACT"] = compiledPath(fn.artifact);
    if (fn.handler !== undefined) env["RIFF_FUNCTION_HANDLER"] = fn.handler;
    const fresh: LaunchSpec = { command: process.execPath, args: [...NODE_FLAGS, SHIM], env, cwd: fn.dir };
    const { adopt, launch } = pool.current?.adopt(fn, fresh) ?? { launch: fresh };
    return new FramedReplica({ ...options, launch, ...(adopt === undefined ? {} : { adopt }) });
  },
  start(options) {
    pool.start(() => Promise.resolve(poolLaunch), options);
  },
  stop: () => pool.stop(),
};
