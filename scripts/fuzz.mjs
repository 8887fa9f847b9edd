// `npm run fuzz`: generated inputs, FUZZ_RUNS each (default 1,000,000), to the two parsers that
// take bytes from outside: the frame parser (what a replica writes to riff) and the resource
// validator (the YAML of `riff apply` and the admin API). Each input must either parse or fail
// with a RiffError that has a code: anything else (a TypeError, a RangeError, a hang) is a bug.
// Every property is bounded in time (FUZZ_SECONDS each, default 300); the run fails if it stops
// short of FUZZ_RUNS. Prints, per property, the inputs tried, the time, and the outcomes seen,
// then a JSON line last. Run after `npm run build`.
import fc from "fast-check";
import { RiffError } from "@riff/core";
import { parseResources } from "@riff/core/validation";
import { encodeFrame, FrameParser, FrameType } from "@riff/protocol";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const SECONDS = Number(process.env.FUZZ_SECONDS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

/** Runs `fn`; a RiffError with a code is an answer, anything else a failure of the property. */
function answered(fn, outcomes) {
  try {
    fn();
    outcomes.ok++;
  } catch (err) {
    if (!(err instanceof RiffError) || typeof err.code !== "string") throw err;
    outcomes[err.code] = (outcomes[err.code] ?? 0) + 1;
  }
  return true;
}

// Frames: random bytes, valid frames cut at random points, and valid frames with bytes flipped.
const frameTypes = Object.values(FrameType).filter((v) => typeof v === "number");
const validFrame = fc
  .record({
    type: fc.constantFrom(...frameTypes),
    id: fc.nat(),
    headers: fc.dictionary(fc.string({ maxLength: 12 }), fc.array(fc.string({ maxLength: 16 }), { maxLength: 3 }), { maxKeys: 4 }),
    payload: fc.uint8Array({ maxLength: 64 }),
  })
  .map((f) => encodeFrame(f));
const frameBytes = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  fc.tuple(validFrame, fc.nat()).map(([b, cut]) => b.subarray(0, cut % (b.length + 1))),
  fc.tuple(validFrame, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
    const c = Uint8Array.from(b);
    c[at % c.length] = v;
    return c;
  }),
  fc.array(validFrame, { maxLength: 4 }).map((list) => Uint8Array.from(list.flatMap((b) => [...b]))),
);
// Fed in random chunks, as a pipe delivers them, to a parser with a small frame limit.
const frameInput = fc.tuple(frameBytes, fc.array(fc.nat({ max: 64 }), { maxLength: 8 }));

// YAML: random text, random structures dumped as YAML, and mutations of a valid Function.
const VALID = `apiVersion: projectriff.io/v1alpha1
kind: Function
metadata:
  name: square
spec:
  invoker: node
  input: numbers
  artifact: square.js
  resources:
    memory: 64Mi
`;
const jsonish = fc.jsonValue({ maxDepth: 4 });
const yamlText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(..."&*!|>-:{}[],#'\"\n apiVersionkindspec0123"), maxLength: 120 }),
  jsonish.map((v) => JSON.stringify(v)),
  fc.record({ apiVersion: fc.oneof(fc.constant("projectriff.io/v1alpha1"), fc.string()), kind: fc.constantFrom("Function", "Topic", "Invoker", "Functoin"), metadata: jsonish, spec: jsonish }).map((v) => JSON.stringify(v)),
  fc.tuple(fc.nat({ max: VALID.length }), fc.string({ maxLength: 20 })).map(([at, s]) => VALID.slice(0, at) + s + VALID.slice(at)),
);

const properties = [
  {
    name: "frame parser",
    arbitrary: frameInput,
    check: (outcomes) => ([bytes, cuts]) => {
      const parser = new FrameParser({ maxFrameBytes: 1024 });
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        const end = Math.min(bytes.length, at + cut);
        const chunk = bytes.subarray(at, end);
        at = end;
        if (!answered(() => parser.push(chunk), outcomes)) return false;
      }
      return true;
    },
  },
  {
    name: "resource validator",
    arbitrary: yamlText,
    check: (outcomes) => (text) => answered(() => parseResources(text, "fuzz.yaml"), outcomes),
  },
];

const results = [];
let failed = false;
for (const p of properties) {
  const outcomes = { ok: 0 };
  const started = Date.now();
  let runs = 0;
  const check = p.check(outcomes);
  const out = fc.check(
    fc.property(p.arbitrary, (input) => {
      runs++;
      return check(input);
    }),
    { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
  );
  const seconds = (Date.now() - started) / 1000;
  const short = out.numRuns < RUNS;
  if (out.failed || short) failed = true;
  console.log(`${p.name}: ${out.numRuns.toLocaleString("en")} inputs in ${seconds.toFixed(1)} s${out.failed ? ` FAILED on ${JSON.stringify(out.counterexample)?.slice(0, 300)}: ${String(out.errorInstance)}` : ""}${short && !out.failed ? ` (stopped at the ${SECONDS} s bound, short of ${RUNS})` : ""}; outcomes ${JSON.stringify(outcomes)}`);
  results.push({ name: p.name, runs: out.numRuns, seconds, failed: out.failed, outcomes });
}
console.log(JSON.stringify({ seed: SEED, runs_each: RUNS, results }));
if (failed) process.exitCode = 1;
