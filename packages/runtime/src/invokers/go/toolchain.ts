/**
 * The Go toolchain, used only at `prepare` time and outside the sandbox: replicas run the
 * binary it built. No module proxy is assumed: a module builds from the standard library or
 * its `vendor/` folder (GOPROXY=off), so a build never waits on the network.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { once, riffCacheDir, runBuildTool } from "../build-tool.js";

/** What `prepare` says to install when `go` is missing. */
export const GO_INSTALL = "Go (apt-get install golang, or go.dev/dl) and put go on the daemon's PATH";

/** The build cache when the daemon has no HOME to keep Go's own in (a service's environment). */
const FALLBACK_GO_HOME = riffCacheDir(".go-home");

/** The daemon's Go: its version (`go1.19.8`), which keys riff's cached tools. */
export const goVersion = once(async () => (await runGo(["env", "GOVERSION"], process.cwd())).trim());

/**
 * The environment of a build in `dir`: the daemon's, so Go finds the user's build cache, plus
 * no network (GOPROXY=off) and, when the module has a `vendor/` folder, -mod=vendor.
 */
export function goEnv(dir: string, o: { cgo: boolean }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GOPROXY: "off", GOFLAGS: existsSync(join(dir, "vendor", "modules.txt")) ? "-mod=vendor" : "", CGO_ENABLED: o.cgo ? "1" : "0", GOTOOLCHAIN: "local", GOWORK: "off" };
  if (env["HOME"] === undefined && env["XDG_CACHE_HOME"] === undefined && env["GOCACHE"] === undefined) {
    env["GOCACHE"] = join(FALLBACK_GO_HOME, "cache");
    env["GOPATH"] = join(FALLBACK_GO_HOME, "path");
  }
  return env;
}

/** Runs `go`, streaming its lines to `onLine`; rejects with go's own output. */
export function runGo(args: string[], cwd: string, env?: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<string> {
  return runBuildTool("go", args, { cwd, env: env ?? goEnv(cwd, { cgo: false }), install: GO_INSTALL, ...(onLine === undefined ? {} : { onLine }) });
}
