/** A function as the topic graph sees it. */
export interface TopologyFunction {
  name: string;
  inputs: string[];
  output: string | undefined;
}

/**
 * Finds a cycle in the topic graph (topic -> function reading it -> its output topic -> ...)
 * that passes through function `through`. Returns the path with topics and functions
 * alternating and the first topic repeated at the end, e.g.
 * `["numbers", "square", "squares", "back", "numbers"]`, or undefined when there is none.
 */
export function findCycle(functions: TopologyFunction[], through: string): string[] | undefined {
  const start = functions.find((f) => f.name === through);
  if (start?.output === undefined) return undefined;
  const readers = new Map<string, TopologyFunction[]>();
  for (const f of functions) for (const t of f.inputs) readers.set(t, [...(readers.get(t) ?? []), f]);
  // Depth-first from the function's output; a path back to one of its inputs closes a cycle.
  const targets = new Set(start.inputs);
  const visited = new Set<string>();
  const walk = (topic: string, path: string[]): string[] | undefined => {
    if (targets.has(topic)) return path;
    if (visited.has(topic)) return undefined;
    visited.add(topic);
    for (const f of readers.get(topic) ?? []) {
      if (f.output === undefined) continue;
      const found = walk(f.output, [...path, f.name, f.output]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const path = walk(start.output, [start.output]);
  if (path === undefined) return undefined;
  const closing = path.at(-1) as string;
  return [closing, start.name, ...path];
}
