import { readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { RiffError } from "@riff/core";
import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker, type PreparedFunction } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { DeferredReplica } from "../../replicas/deferred-replica.js";
import { poolEnv, PoolSlot } from "../../warm-pool.js";
import { titleCase } from "../names.js";
import { compiledShim, javac } from "./javac.js";
import { javaLayout } from "./layout.js";

/** Where `prepare` puts the classes compiled from a function's .java sources, inside its revision. */
const CLASSES_DIR = "riff-classes";

/**
 * JVM flags, chosen by measuring a replica's first reply (bench/coldstart.mjs and an A/B of the
 * shim alone, interleaved runs): C1 only (`TieredStopAtLevel=1`) was as fast or a few ms
 * faster, and suits short-lived replicas answering small messages. `-XX:+UseSerialGC` was
 * consistently slower on this 2-CPU machine, so it is left out; `-Xshare:auto` (the JDK's
 * class-data archive) is the default and stated only to make it explicit. An AppCDS archive of
 * shim + function saved another ~5-10 ms but needs jars and a training run per revision: not yet.
 */
// The JVM's own warnings (unified logging) go to stdout by default, where they would corrupt
// the frame stream: send them to stderr, that is, to the function's logs.
export const JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xlog:disable", "-Xlog:all=warning:stderr"];

/**
 * A pooled JVM replaces its own environment on LOAD (System.getenv has no setter), by
 * reflection into java.lang.ProcessEnvironment and java.util's unmodifiable map. The function
 * shares that JVM, so it may reach those internals too: no escape, since the sandbox, not the
 * JVM, is what confines it.
 */
const POOL_JVM_FLAGS = ["--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED"];

const pool = new PoolSlot("java", "riff's Java shim could not be compiled (is a JDK installed?)", "stdio");

/**
 * The class to run: `--handler`, else the class of a single .java artifact (its package plus
 * the file's name), else Project riff's default `functions.<TitleCase name>`.
 */
export function handlerClass(fn: PreparedFunction): string {
  if (fn.handler !== undefined) return fn.handler;
  if (fn.artifact.endsWith(".java")) {
    const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(readFileSync(fn.artifact, "utf8"))?.[1];
    const cls = basename(fn.artifact, ".java");
    return pkg === undefined ? cls : `${pkg}.${cls}`;
  }
  return `functions.${titleCase(fn.name)}`;
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/** The function's class path: compiled sources, then the artifact jar, or a folder artifact's jars (see javaLayout). */
async function classPath(fn: PreparedFunction): Promise<string[]> {
  const paths: string[] = [];
  if (isDirectory(join(fn.dir, CLASSES_DIR))) paths.push(join(fn.dir, CLASSES_DIR));
  if (fn.artifact.endsWith(".jar")) paths.push(fn.artifact);
  if (isDirectory(fn.artifact)) {
    for (const jar of (await javaLayout(fn.artifact, [CLASSES_DIR])).jars) paths.push(join(fn.artifact, jar));
  }
  return paths;
}

/** Java: a java.util.function Function, Supplier or Consumer, from a jar or from .java sources. */
export const javaInvoker: Invoker = {
  name: "java",
  description: "Java: a Function, Supplier or Consumer class, from a jar or .java sources (compiled at create)",
  matchers: ["*.jar", "*.java", "pom.xml", "build.gradle", "build.gradle.kts"],
  defaultConcurrency: 16,
  async prepare(fn, log) {
    // A function of this invoker exists: its (lazy) pool is worth starting now.
    pool.want();
    const shim = compiledShim();
    let sources = fn.artifact.endsWith(".java") ? [fn.artifact] : [];
    if (isDirectory(fn.artifact)) {
      const layout = await javaLayout(fn.artifact, [CLASSES_DIR]);
      log(`running ${layout.description} as ${handlerClass(fn)}`);
      sources = layout.sources.map((s) => join(fn.artifact, s));
    }
    if (sources.length > 0) {
      // javac takes a second or more: say so before it starts (a folder's layout line did already).
      if (!isDirectory(fn.artifact)) log(`compiling ${basename(fn.artifact)} with javac`);
      // The shim's folder too: functions may import riff.NonRetriableError.
      const cp = [await shim, ...(await classPath(fn))].join(":");
      const output = await javac(["-d", join(fn.dir, CLASSES_DIR), "-cp", cp, ...sources], fn.dir);
      for (const line of output.split("\n")) if (line !== "") log(line);
    } else if (!fn.artifact.endsWith(".jar") && !isDirectory(fn.artifact)) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `${fn.artifact} is neither a .jar nor a .java file`, {
        hint: "pass --artifact with a jar, a .java file, or a folder of them",
      });
    }
    await shim;
  },
  createReplica(fn, options) {
    pool.want();
    return new DeferredReplica(options.id, async () => {
      const paths = await classPath(fn);
      const env = baseEnv(fn);
      const handler = handlerClass(fn);
      const fresh: LaunchSpec = { command: "java", args: [...JVM_FLAGS, "-cp", [await compiledShim(), ...paths].join(":"), "RiffShim", handler], env, cwd: fn.dir };
      // Pooled JVMs only in the sandbox: Java cannot change its working directory, and a
      // sandboxed one already works in the folder its revision is linked into.
      const relativePaths = paths.map((p) => relative(fn.dir, p));
      if (options.confinement?.sandbox !== undefined && pool.current !== undefined && !relativePaths.some((p) => p.startsWith(".."))) {
        const pooled = { ...fresh, env: { ...env, RIFF_JAVA_HANDLER: handler, RIFF_JAVA_CLASS_PATH: relativePaths.join(":") } };
        const { adopt, launch } = pool.current.adopt(fn, pooled);
        if (adopt !== undefined) return new FramedReplica({ ...options, transport: "stdio", launch, adopt });
      }
      return new FramedReplica({ ...options, transport: "stdio", launch: fresh });
    });
  },
  /** A pool of JVMs started with the shim alone (RiffPool.java), which LOAD makes the function's. */
  start(options) {
    const launch = () => compiledShim().then((shim) => (dir: string): LaunchSpec => ({
      command: "java",
      args: [...JVM_FLAGS, ...POOL_JVM_FLAGS, "-cp", shim, "RiffShim", "--pool"],
      env: poolEnv(),
      cwd: dir,
    }));
    pool.start(launch, options, true);
  },
  stop: () => pool.stop(),
};
