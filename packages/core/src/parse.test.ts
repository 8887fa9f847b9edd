import { describe, expect, it } from "vitest";
import { RiffError } from "./errors.js";
import { parseResources } from "./parse.js";

const fn = (spec: string) => `apiVersion: projectriff.io/v1alpha1
kind: Function
metadata:
  name: square
spec:
${spec}`;

function errorOf(text: string): RiffError {
  try {
    parseResources(text, "square-function.yaml");
  } catch (err) {
    if (err instanceof RiffError) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("parseResources", () => {
  it("parses a Function and applies duration strings", () => {
    const [r] = parseResources(fn("  invoker: node\n  input: numbers\n  artifact: square.js\n  idleTimeoutMs: 10s\n"), "f.yaml");
    expect(r?.resource).toMatchObject({ kind: "Function", spec: { input: "numbers", idleTimeoutMs: 10_000 } });
  });

  it("reads several documents, and a Topic's partitions default later", () => {
    const text = "apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: a\n---\napiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: b\nspec:\n  partitions: 4\n";
    const docs = parseResources(text, "t.yaml");
    expect(docs.map((d) => [d.resource.metadata.name, d.line])).toEqual([["a", 1], ["b", 6]]);
  });

  it("names the file, the field path and the line of a bad field", () => {
    const err = errorOf(fn("  invoker: node\n  input: Numbers!\n  artifact: square.js\n"));
    expect(err.code).toBe("RIFF_INVALID_RESOURCE");
    expect(err.message).toMatch(/^square-function\.yaml:7: spec\.input: /);
    expect(err.message).toContain("DNS-1123");
  });

  it("points a missing field at its parent", () => {
    const err = errorOf(fn("  invoker: node\n  artifact: square.js\n"));
    expect(err.message).toMatch(/^square-function\.yaml:6: spec\.input: /);
  });

  it("refuses unknown fields and bad durations", () => {
    expect(errorOf(fn("  invoker: node\n  input: n\n  artifact: a.js\n  colour: red\n")).message).toMatch(/:9: spec\.colour: unknown field \(fields here: invoker, input, /);
    expect(errorOf(fn("  invoker: node\n  input: n\n  artifact: a.js\n  idleTimeoutMs: soon\n")).message).toMatch(/:9: spec\.idleTimeoutMs: 'soon' is not a duration/);
  });

  it("reports every problem of a document at once, in line order, with a guess for a misspelt field", () => {
    const err = errorOf(fn("  invoker: node\n  inputs: numbers\n  artifact: a.js\n  minReplicas: lots\n"));
    expect(err.message.split("\n")).toEqual([
      "square-function.yaml:6: spec.input: is required",
      expect.stringMatching(/^square-function\.yaml:7: spec\.inputs: unknown field; did you mean 'input'\? \(fields here: /),
      "square-function.yaml:9: spec.minReplicas: must be a number, not a string ('lots')",
    ]);
    expect(errorOf(fn("  invoker: node\n  input: 5\n  artifact: a.js\n")).message).toBe(
      "square-function.yaml:7: spec.input: must be a string or a list, not a number",
    );
  });

  it("reports the problems of every document of a file, not only the first bad one", () => {
    const text = `${fn("  invoker: node\n  input: numbers\n")}\n---\nkind: Functoin\n---\n${fn("  invoker: node\n  input: numbers\n  artifact: a.js\n  retries: many\n")}`;
    const lines = errorOf(text).message.split("\n");
    expect(lines).toEqual([
      "square-function.yaml:6: spec.artifact: is required",
      "square-function.yaml:10: kind: unknown kind 'Functoin'; did you mean 'Function'? (kinds: Function, Topic, Invoker)",
      "square-function.yaml:20: spec.retries: must be a number, not a string ('many')",
    ]);
  });

  it("takes spec.retries and spec.deadLetter, and refuses retries that are not a whole number in range", () => {
    const [r] = parseResources(fn("  invoker: node\n  input: numbers\n  artifact: square.js\n  retries: 0\n  deadLetter: square-failures\n"), "f.yaml");
    expect(r?.resource).toMatchObject({ spec: { retries: 0, deadLetter: "square-failures" } });
    for (const retries of ["-1", "1.5", "51"]) expect(errorOf(fn(`  invoker: node\n  input: numbers\n  artifact: square.js\n  retries: ${retries}\n`)).message).toMatch(/spec\.retries: /);
    expect(errorOf(fn("  invoker: node\n  input: numbers\n  artifact: square.js\n  deadLetter: Bad_Topic\n")).message).toMatch(/spec\.deadLetter: .*DNS-1123/);
  });

  it("refuses a timeout a timer cannot hold", () => {
    expect(errorOf(fn("  invoker: node\n  input: n\n  artifact: a.js\n  timeoutMs: 30d\n")).message).toBe("square-function.yaml:9: spec.timeoutMs: must be at most 24 days (24d)");
    expect(errorOf(fn("  invoker: node\n  input: n\n  artifact: a.js\n  timeoutMs: 0\n")).message).toBe("square-function.yaml:9: spec.timeoutMs: must be at least 1ms");
  });

  it("reports YAML syntax errors with their line", () => {
    expect(errorOf("kind: Function\nmetadata: [\n").message).toMatch(/^square-function\.yaml:\d+:/);
  });
});
