import { describeKubeApiContract } from "./conformance.js";
import { MemoryKubeApi } from "./memory-kube-api.js";

// The fake riff's unit tests use, held to the same contract as the real apiserver
// (test/k8s-controller.test.ts runs it there).
const api = new MemoryKubeApi();
describeKubeApiContract("in memory", () => ({ api, namespace: "default" }));
