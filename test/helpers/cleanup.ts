// Runs in every test file (vitest setupFiles): stops what a test started and never disposed of
// (a test that times out never reaches its disposal): daemons, cluster nodes, nats-servers,
// Kubernetes test control planes.
import { afterAll } from "vitest";
import { liveNatsServers } from "../../packages/broker-nats/src/nats-server.test-util.js";
import { liveClusters } from "./cluster.js";
import { liveControlPlanes } from "./kube.js";
import { liveFixtures } from "./riff.js";
import { liveControllers } from "./kube-controller.js";
import { livePods } from "./kube-pods.js";

afterAll(async () => {
  for (const fixture of [...liveFixtures]) await fixture[Symbol.asyncDispose]();
  for (const cluster of [...liveClusters]) await cluster[Symbol.asyncDispose]();
  await Promise.all([...liveControllers, ...livePods].map((p) => p.kill("SIGKILL")));
  for (const plane of [...liveControlPlanes]) await plane.stop();
  await Promise.all([...liveNatsServers].map((s) => s.kill("SIGKILL")));
});
