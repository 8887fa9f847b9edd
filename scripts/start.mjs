// `npm start`: starts riff in the background and deploys every sample in examples/.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const riff = (...args) => execFileSync(process.execPath, [join(root, "packages/cli/bin/riff.js"), ...args], { stdio: "inherit" });
const port = process.env.PORT ?? "8080";

try {
  riff("system", "start", "--port", port);
  const examples = join(root, "examples");
  for (const name of readdirSync(examples).sort()) {
    const dir = join(examples, name);
    if (statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith("-function.yaml"))) riff("apply", "-f", dir);
  }
} catch {
  process.exit(1);
}
console.log(`
riff is running with the examples deployed. Try:
  npx riff publish --input numbers --data 10 --reply                  # 100
  npx riff publish --input words --data hello --reply                 # HELLO
  npx riff publish --input names --content-type application/json --data '{"name":"riff"}' --reply
  npx riff list
  npx riff system stop`);
