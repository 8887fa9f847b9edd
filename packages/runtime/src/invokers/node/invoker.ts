import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker, type PreparedFunction } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { WarmPool, type PooledProcess } from "../../warm-pool.js";
import { compiledPath, prepareNode } from "./prepare.js";

// The bundle (scripts/bundle.mjs) starts faster; the plain build works too, for development.
const BUNDLE = fileURLToPath(new URL("./shim.bundle.cjs", import.meta.url));
const SHIM = existsSync(BUNDLE) ? BUNDLE : fileURLToPath(new URL("./shim.js", import.meta.url));

let pool: WarmPool | undefined;
let sandboxed = false;

/** A generic Node replica for the pool: the shim, waiting for LOAD, with no function's environment yet. */
function poolLaunch(dir: string): LaunchSpec {
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", RIFF_POOL: "1" };
  return { command: process.execPath, args: [SHIM], env, cwd: dir };
}

/**
 * Takes a pooled process for `fn`, if there is one. In a sandbox the process can only reach its
 * own folder, so the revision is copied there and the paths follow; a package with installed
 * dependencies is too big to copy on a cold start and gets a fresh process instead.
 */
function adoptFor(fn: PreparedFunction, launch: LaunchSpec): { adopt?: PooledProcess; launch: LaunchSpec } {
  if (pool === undefined || (sandboxed && existsSync(join(fn.dir, "package.json")))) return { launch };
  const adopt = pool.take();
  if (adopt === undefined || !sandboxed) return adopt === undefined ? { launch } : { adopt, launch };
  cpSync(fn.dir, adopt.dir, { recursive: true, verbatimSymlinks: true });
  const move = (p: string) => (p === fn.dir || p.startsWith(`${fn.dir}/`) ? adopt.dir + p.slice(fn.dir.length) : p);
  const env = Object.fromEntries(Object.entries(launch.env).map(([k, v]) => [k, move(v)]));
  return { adopt, launch: { ...launch, env, cwd: adopt.dir } };
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
    const { adopt, launch } = adoptFor(fn, { command: process.execPath, args: [SHIM], env, cwd: fn.dir });
    return new FramedReplica({ ...options, launch, ...(adopt === undefined ? {} : { adopt }) });
  },
  start({ poolSize, logger, sandbox, poolDir }) {
    if (poolSize <= 0 || pool !== undefined) return;
    sandboxed = sandbox !== undefined;
    pool = new WarmPool(poolLaunch, poolSize, join(poolDir, "node"), sandbox, logger);
    pool.start();
  },
  async stop() {
    await pool?.stop();
    pool = undefined;
  },
};
