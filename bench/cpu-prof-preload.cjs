// `--cpu-prof` for a process started through NODE_OPTIONS, where Node refuses that flag:
//   NODE_OPTIONS="--require bench/cpu-prof-preload.cjs" RIFF_CPU_PROF_DIR=DIR
// profiles the process from its start to its exit (process.exit or the end of its work) and
// writes DIR/<pid>.cpuprofile. With RIFF_CPU_PROF_ARG=--home only processes with that argument
// are profiled (riff's daemons, not the CLI that starts them nor the function replicas).
// RIFF_PROF_KIND picks what is recorded instead of CPU samples:
// - `alloc`: allocations, sampled, the garbage included (what the young generation's
//   collections pay for; `--heap-prof` keeps only what is still alive), to DIR/<pid>.heapprofile,
//   which bench/heapprofile-top.mjs sums per function;
// - `gc`: each kind of collection, counted and timed, to DIR/<pid>.gc.json; SIGUSR2 starts the
//   count again (after a warm-up).
// The main thread's inspector session answers synchronously, so the profile can be taken and
// written in the 'exit' handler.
const dir = process.env.RIFF_CPU_PROF_DIR;
const only = process.env.RIFF_CPU_PROF_ARG;
const kind = process.env.RIFF_PROF_KIND ?? "cpu";
if (dir && (!only || process.argv.includes(only))) {
  const { writeFileSync } = require("node:fs");
  const { join } = require("node:path");
  const out = (suffix, data) => writeFileSync(join(dir, `${process.pid}.${suffix}`), JSON.stringify(data));
  if (kind === "gc") {
    const { PerformanceObserver, constants } = require("node:perf_hooks");
    const names = { [constants.NODE_PERFORMANCE_GC_MINOR]: "scavenge", [constants.NODE_PERFORMANCE_GC_MAJOR]: "mark-compact", [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental-marking", [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak-callbacks" };
    let counts = {};
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const c = (counts[names[e.detail.kind] ?? String(e.detail.kind)] ??= { count: 0, ms: 0 });
        c.count++;
        c.ms += e.duration;
      }
    }).observe({ entryTypes: ["gc"] });
    process.on("SIGUSR2", () => (counts = {}));
    process.on("exit", () => out("gc.json", counts));
  } else {
    const { Session } = require("node:inspector");
    const session = new Session();
    session.connect();
    if (kind === "alloc") {
      session.post("HeapProfiler.enable");
      session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      process.on("exit", () => session.post("HeapProfiler.stopSampling", (err, result) => err || out("heapprofile", result.profile)));
    } else {
      session.post("Profiler.enable");
      session.post("Profiler.setSamplingInterval", { interval: 200 });
      session.post("Profiler.start");
      process.on("exit", () => session.post("Profiler.stop", (err, result) => err || out("cpuprofile", result.profile)));
    }
  }
}
