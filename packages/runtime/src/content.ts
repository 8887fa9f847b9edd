/**
 * Content negotiation shared by riff's invokers: which media types a payload may have, how a
 * payload becomes a value for the function, and how a result becomes a reply for the caller's
 * Accept. Pure and dependency-free, because it runs inside every Node replica.
 */

/** The media types every invoker understands, in the order riff prefers them. */
export const SUPPORTED_TYPES = [
  "text/plain",
  "application/json",
  "application/octet-stream",
  "application/x-www-form-urlencoded",
] as const;

/** One of {@link SUPPORTED_TYPES}. */
export type SupportedType = (typeof SUPPORTED_TYPES)[number];

/** @default "text/plain": what a message without Content-Type is taken to be. */
export const DEFAULT_CONTENT_TYPE: SupportedType = "text/plain";

/** The media type without parameters (`text/plain; charset=utf-8` -> `text/plain`), lower-cased. */
export function mediaType(value: string | undefined): string {
  if (value === undefined || value === "") return DEFAULT_CONTENT_TYPE;
  const semi = value.indexOf(";");
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** True when riff can decode a payload of this Content-Type. */
export function isSupportedType(type: string): type is SupportedType {
  return (SUPPORTED_TYPES as readonly string[]).includes(type);
}

interface AcceptRange {
  type: string;
  q: number;
  order: number;
}

function parseAccept(accept: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  accept.split(",").forEach((part, order) => {
    const [type = "", ...params] = part.split(";");
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split("=");
      if (k?.trim() === "q" && v !== undefined) q = Number(v.trim());
    }
    const t = type.trim().toLowerCase();
    if (t !== "" && Number.isFinite(q) && q > 0) ranges.push({ type: t, q, order });
  });
  return ranges.sort((a, b) => b.q - a.q || a.order - b.order);
}

function matches(range: string, type: string): boolean {
  if (range === "*/*" || range === type) return true;
  return range.endsWith("/*") && type.startsWith(range.slice(0, -1));
}

/**
 * Chooses the reply type for an Accept header. `preferred` (the request's type, or the natural
 * type of the result) wins among equally acceptable types. Undefined: nothing acceptable.
 */
export function negotiate(accept: string | undefined, preferred: SupportedType): SupportedType | undefined {
  if (accept === undefined || accept.trim() === "") return preferred;
  for (const range of parseAccept(accept)) {
    if (matches(range.type, preferred)) return preferred;
    const found = SUPPORTED_TYPES.find((t) => matches(range.type, t));
    if (found !== undefined) return found;
  }
  return undefined;
}
