import type { Invoker } from "../invoker.js";
import { nodeInvoker } from "./node/invoker.js";

/** The invokers riff ships with, by name. */
export const builtinInvokers: ReadonlyMap<string, Invoker> = new Map([[nodeInvoker.name, nodeInvoker]]);
