// Bundles the Node replica shim into one CommonJS file after `tsc -b`. Loading one file instead
// of a tree of ES modules takes tens of milliseconds off every Node cold start.
import { build } from "esbuild";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
await build({
  entryPoints: [resolve(root, "packages/runtime/dist/invokers/node/shim.js")],
  outfile: resolve(root, "packages/runtime/dist/invokers/node/shim.bundle.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
});
