import { describe, expect, it } from "vitest";
import { parseDocuments } from "./parse.js";
import { fromDockerfile, fromRiffYaml } from "./riff-yaml.js";

describe("riff's Dockerfiles", () => {
  it("node: FUNCTION_URI as a path, the file ADDed to it", () => {
    expect(fromDockerfile("FROM projectriff/node-function-invoker:0.0.8\nENV FUNCTION_URI /functions/square.js\nADD square.js ${FUNCTION_URI}\n")).toEqual({ invoker: "node", artifact: "square.js" });
  });
  it("java: ARGs expanded, the jar from target/, the handler from the query", () => {
    const text = "FROM projectriff/java-function-invoker:0.0.7\nARG FUNCTION_JAR=/functions/upper-1.0.0.jar\nARG FUNCTION_HANDLER=functions.Upper\nADD target/upper-1.0.0.jar $FUNCTION_JAR\nENV FUNCTION_URI file://${FUNCTION_JAR}?handler=${FUNCTION_HANDLER}\n";
    expect(fromDockerfile(text)).toEqual({ invoker: "java", artifact: "target/upper-1.0.0.jar", handler: "functions.Upper" });
  });
  it("python3: ADD into a folder; shell is command", () => {
    expect(fromDockerfile("FROM projectriff/python3-function-invoker:0.0.6\nARG FUNCTION_MODULE=upper.py\nARG FUNCTION_HANDLER=process\nADD ./upper.py /\nENV FUNCTION_URI file:///${FUNCTION_MODULE}?handler=${FUNCTION_HANDLER}\n")).toEqual({ invoker: "python3", artifact: "upper.py", handler: "process" });
    expect(fromDockerfile('FROM projectriff/shell-function-invoker:0.0.4\nARG FUNCTION_URI="/echo.sh"\nADD echo.sh /\nENV FUNCTION_URI $FUNCTION_URI\n')).toEqual({ invoker: "command", artifact: "echo.sh" });
  });
  it("node package: the folder COPYed to the FUNCTION_URI folder is the artifact", () => {
    expect(fromDockerfile("FROM projectriff/node-function-invoker:0.0.8\nENV FUNCTION_URI /functions/\nCOPY . ${FUNCTION_URI}\nRUN (cd ${FUNCTION_URI} && npm install --production)\n")).toEqual({ invoker: "node", artifact: "." });
  });
});

describe("riff's documents", () => {
  it("v1 becomes v1alpha1; our own documents pass unchanged, with no warning", () => {
    const ours = { apiVersion: "projectriff.io/v1alpha1", kind: "Function", metadata: { name: "a" }, spec: { invoker: "node", input: "x", artifact: "a.js" } };
    expect(fromRiffYaml(ours)).toEqual({ value: ours, warnings: [] });
    expect(fromRiffYaml({ apiVersion: "projectriff.io/v1", kind: "Topic", metadata: { name: "t" } }).value).toEqual({ apiVersion: "projectriff.io/v1alpha1", kind: "Topic", metadata: { name: "t" } });
    expect(fromRiffYaml({ apiVersion: "example.com/v9", kind: "Topic" }).value).toEqual({ apiVersion: "example.com/v9", kind: "Topic" });
  });
  it("a riff Function maps what has a meaning and warns of the rest, naming file and line", () => {
    const text = "apiVersion: projectriff.io/v1alpha1\nkind: Function\nmetadata:\n  name: square\nspec:\n  protocol: http\n  input: numbers\n  maxReplicas: 3\n  idleTimeoutMs: 5000\n  container:\n    image: me/square:0.0.1\n    imagePullPolicy: Always\n  windowing:\n    session: 5s\n";
    const [r] = parseDocuments(text, "f.yaml", { dockerfile: "FROM projectriff/node-function-invoker:0.0.8\nENV FUNCTION_URI /functions/square.js\nADD square.js ${FUNCTION_URI}\n" }).resources;
    expect(r?.resource.spec).toEqual({ invoker: "node", artifact: "square.js", input: "numbers", maxReplicas: 3, idleTimeoutMs: 5000 });
    expect(r?.warnings.map((w) => w.split(": ")[1])).toEqual(["spec.protocol (http)", "spec.container.image (me/square:0.0.1)", "spec.container.imagePullPolicy", "spec.windowing"]);
    // Each at its field's line: protocol on 6, the image on 11, imagePullPolicy on 12, windowing on 13.
    expect(r?.warnings.map((w) => w.split(": ")[0])).toEqual(["f.yaml:6", "f.yaml:11", "f.yaml:12", "f.yaml:13"]);
  });
  it("a riff Function without a Dockerfile says what is missing", () => {
    expect(() => parseDocuments("apiVersion: projectriff.io/v1alpha1\nkind: Function\nmetadata:\n  name: a\nspec:\n  input: x\n  container:\n    image: a\n", "f.yaml")).toThrow(/spec\.invoker: is required: riff's own Function leaves it to the Dockerfile next to it/);
  });
  it("riff's Invoker of an unknown language is an error saying how to declare it", () => {
    expect(() => parseDocuments("apiVersion: projectriff.io/v1alpha1\nkind: Invoker\nmetadata:\n  name: ruby\nspec:\n  version: 0.0.1\n", "i.yaml")).toThrow(/no built-in counterpart.*spec\.command/);
  });
});
