import { defineConfig } from "vitest/config";

// Suites spawn real processes (daemon, replicas, nats-server), so they run in forked workers.
// No retries, by policy: a flaky test is a bug to fix, not to re-run.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["test/helpers/cleanup.ts"],
    pool: "forks",
    retry: 0,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
