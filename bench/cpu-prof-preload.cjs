// Preloaded with NODE_OPTIONS="--require bench/cpu-prof-preload.cjs" and CPU_PROF_DIR=dir
// (Node 20 refuses --cpu-prof in NODE_OPTIONS): profiles a riff daemon (the process whose
// argv has `--home`, not the CLI or the function replicas) from its start until it exits, and
// writes dir/riff-<pid>.cpuprofile, as --cpu-prof would.
"use strict";
const dir = process.env.CPU_PROF_DIR;
if (dir && process.argv.includes("--home")) {
  const { Session } = require("node:inspector");
  const { writeFileSync } = require("node:fs");
  const { join } = require("node:path");
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 1000 });
  session.post("Profiler.start");
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // Synchronous on exit: the callback runs at once on an inspector session of this thread.
    session.post("Profiler.stop", (err, { profile } = {}) => {
      if (!err && profile) writeFileSync(join(dir, `riff-${process.pid}.cpuprofile`), JSON.stringify(profile));
    });
  };
  process.on("exit", write);
}
