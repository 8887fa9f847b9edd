/**
 * What a Java folder artifact holds, as Maven and Gradle lay projects out: a build's output
 * (jars, with their dependency jars), or sources to compile (`src/main/java`, or `.java`
 * files in package folders), with any jars beside them on the class path.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { filesEndingWith } from "./javac.js";

/** A Java project as riff runs it: what to compile, what to put on the class path. */
export interface JavaLayout {
  /** `.java` files to compile, relative to the folder. */
  sources: string[];
  /** Jars for the class path, relative to the folder, the function's own first. */
  jars: string[];
  /** For the progress line: which layout riff saw. */
  description: string;
}

/** A build's own jars; not its side products (sources, javadoc, Maven shade's original). */
function isRunnableJar(path: string): boolean {
  const name = basename(path);
  return !/-(sources|javadoc|tests)\.jar$/.test(name) && !name.startsWith("original-");
}

/** Jars directly in `sub` of `root` (not in its subfolders), relative to `root`. */
async function jarsIn(root: string, sub: string): Promise<string[]> {
  if (!existsSync(join(root, sub))) return [];
  const all = await filesEndingWith(join(root, sub), ".jar");
  return all.filter((j) => !j.includes("/") && isRunnableJar(j)).map((j) => join(sub, j));
}

/** Folders whose sources are not the function's: tests, and build outputs and riff's own. */
const NOT_SOURCES = ["src/test/", "target/", "build/"];

/**
 * The layout of `root`. A built project (Maven's `target/*.jar`, Gradle's `build/libs/*.jar`)
 * runs its jars as built, with `target/dependency/` (`mvn dependency:copy-dependencies`),
 * `target/lib/` and Gradle's `build/install/NAME/lib/` beside them: its sources are not
 * compiled again. Else `src/main/java` is compiled, or every `.java` file outside tests and
 * build folders; all other jars in the folder are on the class path.
 */
export async function javaLayout(root: string, skip: string[]): Promise<JavaLayout> {
  const built = [...(await jarsIn(root, "target")), ...(await jarsIn(root, "build/libs"))];
  if (built.length > 0) {
    const gradleLibs = existsSync(join(root, "build/install")) ? (await filesEndingWith(join(root, "build/install"), ".jar")).filter((j) => /^[^/]+\/lib\/[^/]+$/.test(j)).map((j) => join("build/install", j)) : [];
    const deps = [...(await jarsIn(root, "target/dependency")), ...(await jarsIn(root, "target/lib")), ...gradleLibs];
    const tool = built[0]?.startsWith("target/") === true ? "Maven" : "Gradle";
    const withDeps = deps.length === 0 ? "" : ` with ${deps.length} dependency jar${deps.length === 1 ? "" : "s"}`;
    return { sources: [], jars: [...built, ...deps], description: `the ${tool} build's ${built.join(", ")}${withDeps}` };
  }
  const jars = (await filesEndingWith(root, ".jar", skip)).filter((j) => !j.startsWith("src/test/") && isRunnableJar(j));
  const main = "src/main/java";
  if (existsSync(join(root, main))) {
    const sources = (await filesEndingWith(join(root, main), ".java")).map((s) => join(main, s));
    return { sources, jars, description: `the sources in ${main}` };
  }
  const sources = (await filesEndingWith(root, ".java", skip)).filter((s) => !NOT_SOURCES.some((n) => s.startsWith(n)));
  return { sources, jars, description: sources.length > 0 ? `${sources.length} source file${sources.length === 1 ? "" : "s"}` : `${jars.length} jar${jars.length === 1 ? "" : "s"}` };
}
