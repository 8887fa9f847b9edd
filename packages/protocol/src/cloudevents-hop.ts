/**
 * A function's result is a new event: it gets its own `id`, `source` and `time` at each hop,
 * while its `type` (unless the function sets one) and the extensions of the event it answers
 * go along. Pure: the caller brings the id and the clock.
 */
import { HeaderNames, type Headers } from "@riff/core";
import { CE_HEADER_PREFIX, CE_SPECVERSION, CeHeaders, RIFF_MESSAGE_TYPE } from "./cloudevents.js";

/** The new event's own attributes. */
export interface Hop {
  /** Unique per event. */
  id: string;
  /** e.g. `/riff/functions/<name>`. */
  source: string;
  /** RFC 3339. */
  time: string;
  /**
   * The type when the function set none. Given (a reply): the input's type is not carried.
   * Absent (an output): the input's type is kept, else {@link RIFF_MESSAGE_TYPE}.
   */
  type?: string;
}

/** Attributes that describe one event only, so never pass to the next. */
const OWN = new Set<string>([CeHeaders.id, CeHeaders.source, CeHeaders.time, CeHeaders.specversion, CeHeaders.dataschema]);

/**
 * The headers of a result as the next event. `carry` is `all` for an output message (the
 * input's headers go along: trace, correlation, user headers) and `attributes` for a reply,
 * which takes only the input's CloudEvents extensions. The result's own headers win, but
 * `id`, `source` and `time` are always the hop's.
 */
export function nextEventHeaders(input: Headers, result: Headers, hop: Hop, carry: "all" | "attributes"): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(input)) {
    if (name.startsWith(CE_HEADER_PREFIX)) {
      if (!OWN.has(name) && !(hop.type !== undefined && name === CeHeaders.type)) out[name] = value;
    } else if (carry === "all" && name !== HeaderNames.accept) out[name] = value;
  }
  Object.assign(out, result);
  out[CeHeaders.specversion] = [CE_SPECVERSION];
  out[CeHeaders.id] = [hop.id];
  out[CeHeaders.source] = [hop.source];
  out[CeHeaders.time] = [hop.time];
  out[CeHeaders.type] ??= [hop.type ?? RIFF_MESSAGE_TYPE];
  return out;
}
