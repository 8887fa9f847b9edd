import { KubeApiError } from "./kube-api.js";
import { describe, expect, it } from "vitest";
import { kubeError } from "./cli-target.js";
import { customResourceOf, describeLines, functionRow, type CustomResource } from "./cli-target-resources.js";

const square = { kind: "Function" as const, metadata: { name: "square" }, spec: { invoker: "node", input: "numbers", artifact: "src/square.js" } };

describe("the CLI's custom resources", () => {
  it("points a Function at its code in the cluster's store, never at a path on this machine", () => {
    expect(customResourceOf(square, "fns", { digest: "0123456789abcdef", entry: "square.js" })).toEqual({
      apiVersion: "projectriff.io/v1alpha1",
      kind: "Function",
      metadata: { name: "square", namespace: "fns" },
      spec: { invoker: "node", input: "numbers", artifact: "square.js", digest: "0123456789abcdef" },
    });
    expect(customResourceOf(square, "fns", { digest: "fedcba9876543210", entry: "" }).spec).toMatchObject({ artifact: ".", digest: "fedcba9876543210" });
    expect(() => customResourceOf(square, "fns")).toThrow(/uploaded first/);
    const topic = customResourceOf({ kind: "Topic", metadata: { name: "numbers", labels: { team: "a" } }, spec: { partitions: 4 } }, "fns");
    expect(topic).toEqual({ apiVersion: "projectriff.io/v1alpha1", kind: "Topic", metadata: { name: "numbers", namespace: "fns", labels: { team: "a" } }, spec: { partitions: 4 } });
  });

  it("lists a function with the controller's status, and one it has not seen as Unknown", () => {
    const cr: CustomResource = {
      apiVersion: "projectriff.io/v1alpha1",
      kind: "Function",
      metadata: { name: "square", namespace: "fns", generation: 3 },
      spec: { invoker: "node", input: ["a", "b"], output: "squares", artifact: ".", digest: "0123456789abcdef" },
      status: {
        observedGeneration: 2,
        replicas: 2,
        maxReplicas: 4,
        lag: 17,
        conditions: [{ type: "Ready", status: "False", reason: "CodeMissing", message: "no code", lastTransitionTime: "2026-01-01T00:00:00Z" }, { bogus: true }],
      },
    };
    expect(functionRow(cr)).toEqual({ name: "square", inputs: ["a", "b"], output: "squares", replicas: 2, ready: "False", lag: 17, reason: "no code" });
    expect(functionRow({ ...cr, status: undefined })).toMatchObject({ replicas: 0, ready: "Unknown", lag: undefined });
    const lines = describeLines(cr);
    expect(lines[0]).toBe("function square (namespace fns, generation 3): ready False");
    expect(lines).toContain("  replicas 2 (at most 4), lag 17");
    expect(lines).toContain("  the controller has seen generation 2 only");
    expect(lines).toContain("  Ready=False CodeMissing: no code (since 2026-01-01T00:00:00Z)");
  });

  it("turns the apiserver's answers into riff's codes, a server-side apply conflict into RIFF_CONFLICT", () => {
    const status = (code: number, message: string) => new KubeApiError(code, message);
    const conflict = kubeError(status(409, "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.input"), "Function", "square");
    expect(conflict.code).toBe("RIFF_CONFLICT");
    expect(conflict.message).toContain('conflict with "kubectl"');
    expect(conflict.hint).toContain("--force-conflicts");
    expect(kubeError(status(404, "functions.projectriff.io \"x\" not found"), "Function", "x").code).toBe("RIFF_FUNCTION_NOT_FOUND");
    expect(kubeError(status(404, "the server could not find the requested resource"), "Function", "x").hint).toContain("riff system install --kubernetes");
    expect(kubeError(status(403, "forbidden"), "Secret", "riff-system/riff-admin").code).toBe("RIFF_FORBIDDEN");
    expect(kubeError(status(422, "spec.input: Invalid value"), "Function", "x").code).toBe("RIFF_INVALID_RESOURCE");
    expect(kubeError(new TypeError("fetch failed"), "Function").code).toBe("RIFF_KUBERNETES_UNAVAILABLE");
  });
});
