// `npm start`: starts riff in the background and deploys every sample in examples/.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const riff = (...args) => execFileSync(process.execPath, [join(root, "packages/cli/bin/riff.js"), ...args], { stdio: "inherit" });
const port = process.env.PORT ?? "8080";

// riff refuses to run functions without its sandbox. The examples are this repository's own
// code: on a machine without bubblewrap they run unsandboxed, on purpose and said loudly.
const sandbox = [];
try {
  execFileSync("bwrap", ["--version"], { stdio: "ignore" });
} catch {
  console.error("bubblewrap is not installed: starting riff with --sandbox none for the examples.\nInstall it (apt-get install bubblewrap) to run functions in riff's sandbox.\n");
  sandbox.push("--sandbox", "none");
}
try {
  riff("system", "start", "--port", port, ...sandbox);
} catch {
  process.exit(1);
}
// Each example needs its runtime (python3, a JDK, perl): one that cannot deploy here is
// reported and skipped, and the others still run.
const examples = join(root, "examples");
const skipped = [];
for (const name of readdirSync(examples).sort()) {
  const dir = join(examples, name);
  if (!statSync(dir).isDirectory() || !readdirSync(dir).some((f) => f.endsWith("-function.yaml"))) continue;
  try {
    riff("apply", "-f", dir);
  } catch {
    skipped.push(name);
  }
}
if (skipped.length > 0) console.error(`\nnot deployed (see the errors above): ${skipped.join(", ")}`);
console.log(`
riff is running with the examples deployed. Try:
  npx riff publish --input numbers --data 10 --reply                  # 100
  npx riff publish --input words --data hello --reply                 # HELLO
  npx riff publish --input names --content-type application/json --data '{"name":"riff"}' --reply
  node examples/votes/generate.mjs & npx riff topics tail vote-counts -f
  npx riff list
  npx riff graph
  npx riff system stop`);
