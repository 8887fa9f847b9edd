#!/usr/bin/env node
// The `riff` command. The code is compiled into ../dist by `npm install` (the root's prepare).
import("../dist/main.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND") {
    process.stderr.write("riff is not built yet: run `npm install` (or `npm run build`) in the riff checkout\n");
    process.exit(2);
  }
  throw err;
});
