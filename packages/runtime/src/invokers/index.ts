import type { Invoker } from "../invoker.js";
import { commandInvoker, commandLinesInvoker } from "./command/invoker.js";
import { goInvoker } from "./go/invoker.js";
import { javaInvoker } from "./java/invoker.js";
import { nodeInvoker } from "./node/invoker.js";
import { pythonInvoker } from "./python/invoker.js";

/** The invokers riff ships with, by name. */
export const builtinInvokers: ReadonlyMap<string, Invoker> = new Map(
  [nodeInvoker, pythonInvoker, javaInvoker, goInvoker, commandInvoker, commandLinesInvoker].map((i) => [i.name, i]),
);
