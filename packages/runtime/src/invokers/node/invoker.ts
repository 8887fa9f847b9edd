import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker } from "../../invoker.js";
import { compiledPath, prepareNode } from "./prepare.js";

// The bundle (scripts/bundle.mjs) starts faster; the plain build works too, for development.
const BUNDLE = fileURLToPath(new URL("./shim.bundle.cjs", import.meta.url));
const SHIM = existsSync(BUNDLE) ? BUNDLE : fileURLToPath(new URL("./shim.js", import.meta.url));

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
    return new FramedReplica({ ...options, launch: { command: process.execPath, args: [SHIM], env, cwd: fn.dir } });
  },
};
