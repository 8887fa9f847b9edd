import { join } from "node:path";
import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker, type PreparedFunction } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { DeferredReplica } from "../../replicas/deferred-replica.js";
import { poolEnv, PoolSlot } from "../../warm-pool.js";
import { titleCase } from "../names.js";
import { buildFunction, FUNCTION_BINARY } from "./build.js";
import { goVersion } from "./toolchain.js";
import { execStub, pluginHost } from "./tools.js";

/** A plugin the user built with `go build -buildmode=plugin`, as riff's Go invoker ran functions. */
function isPlugin(fn: PreparedFunction): boolean {
  return fn.artifact.endsWith(".so");
}

const pool = new PoolSlot("go", "its stub could not be built (is Go installed?)");

/**
 * Go: an exported func of a package, compiled at create with a generated main into one static
 * binary per revision; or riff's own way, a plugin loaded by riff's host program.
 */
export const goInvoker: Invoker = {
  name: "go",
  description: "Go: an exported func of a package (compiled at create), or a plugin built with -buildmode=plugin",
  matchers: ["go.mod", "*.so", "*.go"],
  defaultConcurrency: 16,
  async prepare(fn, log) {
    // A function of this invoker exists: its (lazy) pool is worth starting now.
    pool.want();
    if (!isPlugin(fn)) return buildFunction(fn, log);
    // Built now, not at the first replica: a missing toolchain fails create, and the first
    // cold start does not wait for a compile.
    await pluginHost();
    log(`go: loading the plugin ${fn.artifact.slice(fn.dir.length + 1)} with riff's host built by ${await goVersion()}`);
  },
  createReplica(fn, options) {
    pool.want();
    const env = baseEnv(fn);
    if (!isPlugin(fn)) {
      const fresh: LaunchSpec = { command: join(fn.dir, FUNCTION_BINARY), args: [], env, cwd: fn.dir };
      // A pooled stub is already in a sandbox: it execs the function's binary (riff-exec).
      const { adopt, launch } = pool.current?.adopt(fn, fresh) ?? { launch: fresh };
      return new FramedReplica({ ...options, launch, ...(adopt === undefined ? {} : { adopt }) });
    }
    return new DeferredReplica(options.id, async () => {
      const args = [fn.artifact, fn.handler ?? titleCase(fn.name)];
      return new FramedReplica({ ...options, launch: { command: await pluginHost(), args, env, cwd: fn.dir } });
    });
  },
  /**
   * A pool of exec stubs (exec-stub/main.go), built once per toolchain: a compiled function's
   * cold start is then its binary's own start, with the sandbox already made. Without Go
   * there is no pool, and no Go function either.
   */
  start(options) {
    pool.start(
      () => execStub().then((stub) => (dir: string): LaunchSpec => ({ command: stub, args: [], env: poolEnv(), cwd: dir })),
      options,
      true,
    );
  },
  stop: () => pool.stop(),
};
