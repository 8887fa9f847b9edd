import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRiff, type RiffFixture } from "./helpers/riff.js";
import { deploy, publishHello } from "./invokers-shared.js";

/** A dependency's source: `shout.Shout.it(s)`, the upper case of s. */
const SHOUT = "package shout;\npublic class Shout {\n  public static String it(String s) { return s.toUpperCase(); }\n}\n";

/** The function `functions.<cls>`, calling the dependency when `viaShout`. */
const upper = (cls: string, viaShout: boolean) =>
  `package functions;\npublic class ${cls} implements java.util.function.Function<String, String> {\n  public String apply(String s) { return ${viaShout ? "shout.Shout.it(s)" : "s.toUpperCase()"}; }\n}\n`;

/** Writes `files` under `dir`, making folders. */
function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/**
 * Builds `sources` (written under `work`) into the jar `out` with the JDK's own javac and jar,
 * as Maven's or Gradle's package step would: no Maven Central or Gradle is reachable here.
 */
function buildJar(work: string, sources: Record<string, string>, out: string, classPath: string[] = []): void {
  const src = mkdtempSync(join(work, "src-"));
  write(src, sources);
  const classes = join(src, "classes");
  const cp = classPath.length === 0 ? [] : ["-cp", classPath.join(":")];
  execFileSync("javac", ["-d", classes, ...cp, ...Object.keys(sources).map((s) => join(src, s))]);
  mkdirSync(dirname(out), { recursive: true });
  execFileSync("jar", ["cf", out, "-C", classes, "."]);
}

// Java projects as Maven and Gradle lay them out, through a real daemon and sandboxed JVMs.
// No --artifact: riff create finds the project from the folder, as a user would run it there.
describe("the java invoker with real project layouts", () => {
  let riff: RiffFixture;
  let work: string;

  beforeAll(async () => {
    riff = await startRiff();
    work = mkdtempSync(join(tmpdir(), "riff-java-builds-"));
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  });

  /** A project folder holding `files`, whose function reads `<name>-in`. */
  const project = (name: string, files: Record<string, string>) => {
    const dir = mkdtempSync(join(riff.work, `${name}-`));
    write(dir, files);
    return { dir, input: `${name}-in` };
  };

  it("compiles sources in package folders and runs Project riff's default class functions.<TitleCase name>", async () => {
    const r = await deploy(riff, "java", "upper", { "functions/Upper.java": upper("Upper", false) });
    expect(r.stdout).toContain("created");
    expect(r.stderr).toContain("upper: running 1 source file as functions.Upper");
    expect((await publishHello(riff, r.input)).stdout).toBe("HELLO\n");
  });

  it("runs a Maven build's target/*.jar with its jars in target/dependency/", async () => {
    const r = project("shouter", {
      "pom.xml": "<project><modelVersion>4.0.0</modelVersion><groupId>fn</groupId><artifactId>shouter</artifactId><version>1.0</version></project>\n",
      "src/main/java/functions/Shouter.java": upper("Shouter", true),
    });
    // The build, done here as `mvn package dependency:copy-dependencies` would have done it.
    buildJar(work, { "shout/Shout.java": SHOUT }, join(r.dir, "target/dependency/shout-1.0.jar"));
    buildJar(work, { "functions/Shouter.java": upper("Shouter", true) }, join(r.dir, "target/shouter-1.0.jar"), [join(r.dir, "target/dependency/shout-1.0.jar")]);
    const c = await riff.cli(["create", "java", "--name", "shouter", "--input", r.input, "--filepath", r.dir], r.dir);
    expect(c.stdout).toContain("created");
    expect(c.stderr).toContain("shouter: running the Maven build's target/shouter-1.0.jar with 1 dependency jar as functions.Shouter");
    expect((await publishHello(riff, r.input)).stdout).toBe("HELLO\n");
  });

  it("runs a Gradle build's shaded jar in build/libs/", async () => {
    const { dir } = project("gradle-upper", { "build.gradle": "plugins { id 'java' }\n" });
    buildJar(work, { "shout/Shout.java": SHOUT, "functions/GradleUpper.java": upper("GradleUpper", true) }, join(dir, "build/libs/gradle-upper-all.jar"));
    const c = await riff.cli(["create", "java", "--name", "gradle-upper", "--input", "gradle-upper-in", "--filepath", dir], dir);
    expect(c.stdout).toContain("created");
    expect(c.stderr).toContain("gradle-upper: running the Gradle build's build/libs/gradle-upper-all.jar as functions.GradleUpper");
    expect((await publishHello(riff, "gradle-upper-in")).stdout).toBe("HELLO\n");
  });

  it("runs a jar with its dependency jars in lib/ beside it", async () => {
    const { dir } = project("withlib", {});
    buildJar(work, { "shout/Shout.java": SHOUT }, join(dir, "lib/shout.jar"));
    buildJar(work, { "functions/Withlib.java": upper("Withlib", true) }, join(dir, "withlib.jar"), [join(dir, "lib/shout.jar")]);
    const c = await riff.cli(["create", "java", "--name", "withlib", "--input", "withlib-in", "--filepath", dir], dir);
    expect(c.stdout).toContain("created");
    expect(c.stderr).toContain("withlib: running 2 jars as functions.Withlib");
    expect((await publishHello(riff, "withlib-in")).stdout).toBe("HELLO\n");
  });

  it("compiles src/main/java against the jars beside it, with the class named by --handler", async () => {
    const r = project("src-upper", { "src/main/java/functions/Upper.java": upper("Upper", true), "src/test/java/functions/UpperTest.java": "this is not compiled" });
    buildJar(work, { "shout/Shout.java": SHOUT }, join(r.dir, "lib/shout.jar"));
    const c = await riff.cli(["create", "java", "--name", "src-upper", "--input", r.input, "--filepath", r.dir, "--handler", "functions.Upper"], r.dir);
    expect(c.stdout).toContain("created");
    expect(c.stderr).toContain("src-upper: running the sources in src/main/java as functions.Upper");
    expect((await publishHello(riff, r.input)).stdout).toBe("HELLO\n");
  });
});
