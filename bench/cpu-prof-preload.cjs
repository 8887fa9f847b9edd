// `--cpu-prof` for a process started through NODE_OPTIONS, where Node refuses that flag:
//   NODE_OPTIONS="--require bench/cpu-prof-preload.cjs" RIFF_CPU_PROF_DIR=DIR
// profiles the process from its start to its exit (process.exit or the end of its work) and
// writes DIR/<pid>.cpuprofile. With RIFF_CPU_PROF_ARG=--home only processes with that argument
// are profiled (riff's daemons, not the CLI that starts them nor the function replicas).
// The main thread's inspector session answers synchronously, so the profile can be taken and
// written in the 'exit' handler.
const dir = process.env.RIFF_CPU_PROF_DIR;
const only = process.env.RIFF_CPU_PROF_ARG;
if (dir && (!only || process.argv.includes(only))) {
  const { Session } = require("node:inspector");
  const { writeFileSync } = require("node:fs");
  const { join } = require("node:path");
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 200 });
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
