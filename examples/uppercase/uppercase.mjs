// riff's conformance check for every invoker: `hello` -> `HELLO`. An ESM default export.
export default function uppercase(text) {
  return String(text).toUpperCase();
}
