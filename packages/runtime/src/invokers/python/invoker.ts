import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { DeferredReplica } from "../../replicas/deferred-replica.js";
import { poolEnv, PoolSlot } from "../../warm-pool.js";
import { pythonEntry } from "./entry.js";
import { findPython } from "./interpreter.js";
import { installRequirements, requirementsSite } from "./requirements.js";

/** The shim's folder: the .py files ship in src/ (tsc does not copy them to dist/). */
const SHIM_DIR = fileURLToPath(new URL("../../../src/invokers/python/", import.meta.url));
/**
 * The SDK's `riff_windows.py`, importable by every Python function as `@riff/sdk` is by Node
 * ones; last on sys.path, so a copy in the function's own folder wins.
 */
const SDK_DIR = join(dirname(fileURLToPath(import.meta.resolve("@riff/sdk"))), "..", "python");

/**
 * `-S`: no `site` at start. Site processing runs every `.pth` file of the installation, which
 * can import whole packages (here a CA-injecting `.pth` imports certifi: ~30 ms of a 45 ms
 * start). The shim puts the site-packages folders on sys.path itself, so imports still work,
 * and runs the full `site.main()` only if importing the function fails without it.
 * `-c` rather than a script path: an imported module is byte-compiled once and cached, a script
 * is compiled on every start.
 */
const PYTHON_FLAGS = ["-S", "-c", `import sys; sys.path.insert(0, ${JSON.stringify(SHIM_DIR)}); sys.path.append(${JSON.stringify(SDK_DIR)}); import _riff_shim; _riff_shim.main()`];

const pool = new PoolSlot("python3", "python3 was not found");

/** Python 3: a function in a .py file, sync or async, or a generator for streams. */
export const pythonInvoker: Invoker = {
  name: "python3",
  description: "Python 3 functions: def fn(x), async def fn(x), or a generator for streams",
  matchers: ["requirements.txt", "*.py"],
  defaultConcurrency: 16,
  /**
   * Locates the interpreter now, so a missing Python fails create and the first replica starts
   * sooner; installs a requirements.txt; picks the module of a folder artifact.
   */
  async prepare(fn, log, signal) {
    const python = await findPython();
    const entry = pythonEntry(fn);
    if (entry !== undefined) {
      log(`loading ${entry.slice(fn.dir.length + 1)}`);
      // The daemon keeps this file as the revision's entry, so replicas load it directly.
      fn.artifact = entry;
    }
    await installRequirements(fn.dir, python, log, signal);
  },
  createReplica(fn, options) {
    return new DeferredReplica(options.id, async () => {
      const python = await findPython();
      const env = baseEnv(fn);
      env["RIFF_FUNCTION_ARTIFACT"] = fn.artifact;
      if (fn.handler !== undefined) env["RIFF_FUNCTION_HANDLER"] = fn.handler;
      // The venv's packages first, so its versions win over the installation's.
      const venv = requirementsSite(fn.dir, python);
      env["RIFF_PYTHON_SITE"] = [...(venv === undefined ? [] : [venv]), ...python.sitePackages].join(":");
      const fresh: LaunchSpec = { command: python.executable, args: PYTHON_FLAGS, env, cwd: fn.dir };
      const { adopt, launch } = pool.current?.adopt(fn, fresh) ?? { launch: fresh };
      return new FramedReplica({ ...options, launch, ...(adopt === undefined ? {} : { adopt }) });
    });
  },
  start(options) {
    // The pool needs the interpreter; without Python there is simply no pool.
    const launch = () => findPython().then((python) => (dir: string): LaunchSpec => ({
      command: python.executable,
      args: PYTHON_FLAGS,
      env: poolEnv({ RIFF_POOL: "1", RIFF_PYTHON_SITE: python.sitePackages.join(":") }),
      cwd: dir,
    }));
    pool.start(launch, options);
  },
  stop: () => pool.stop(),
};
