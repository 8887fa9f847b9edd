import { execFile } from "node:child_process";
import { RiffError } from "@riff/core";

/** The Python that replicas run, found once. */
export interface PythonInterpreter {
  /** The real binary (`sys.executable`), never a pyenv or asdf shim script. */
  executable: string;
  version: string;
  /** Folders `site` would add to sys.path, which the shim adds itself since it runs with -S. */
  sitePackages: string[];
}

const PROBE = [
  "import json, os, site, sys",
  "user = site.getusersitepackages() if site.ENABLE_USER_SITE else None",
  "paths = [p for p in site.getsitepackages() + ([user] if user else []) if os.path.isdir(p)]",
  "print(json.dumps({'executable': sys.executable, 'version': sys.version.split()[0], 'sitePackages': paths}))",
].join("\n");

let cached: Promise<PythonInterpreter> | undefined;

/**
 * Locates `python3` on PATH once for the daemon's life. A version manager's `python3` is often
 * a shell script (pyenv's costs ~80 ms per start here); running `sys.executable` skips it.
 * A failure is not cached, so installing Python and retrying works without a restart.
 */
export function findPython(command = "python3"): Promise<PythonInterpreter> {
  cached ??= new Promise<PythonInterpreter>((resolve, reject) => {
    execFile(command, ["-c", PROBE], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) {
        cached = undefined;
        reject(
          new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `cannot run ${command}: ${stderr.trim() || err.message}`, {
            hint: "install Python 3 and put python3 on the daemon's PATH",
          }),
        );
        return;
      }
      resolve(JSON.parse(stdout) as PythonInterpreter);
    });
  });
  return cached;
}
