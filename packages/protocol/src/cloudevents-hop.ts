/**
 * A function's result is a new event: it gets its own `id` and `source` at each hop, while its
 * `type` (unless the function sets one) and the extensions of the event it answers go along.
 * Pure: the caller brings the id. This runs once per reply and per output message, so it
 * copies headers with plain loops rather than building entry arrays.
 */
import { HeaderNames, type Headers } from "@riff/core";
import { CE_HEADER_PREFIX, CE_SPECVERSION, CeHeaders, RIFF_MESSAGE_TYPE } from "./cloudevents.js";

/** The new event's own attributes. */
export interface Hop {
  /** Unique per event. */
  id: string;
  /** e.g. `/riff/functions/<name>`. */
  source: string;
  /**
   * The type when the function set none. Given (a reply): the input's type is not carried.
   * Absent (an output): the input's type is kept, else {@link RIFF_MESSAGE_TYPE}.
   */
  type?: string;
}

/**
 * Attributes that describe one event only, so never pass to the next. `time` is one: the
 * broker's timestamp says when a result was written, so riff sets no `time` of its own.
 */
const OWN = new Set<string>([CeHeaders.id, CeHeaders.source, CeHeaders.time, CeHeaders.specversion, CeHeaders.dataschema]);

/**
 * The headers of a result as the next event. `carry` is `all` for an output message (the
 * input's headers go along: trace, correlation, user headers) and `attributes` for a reply,
 * which takes only the input's CloudEvents extensions. The result's own headers win, but `id`
 * and `source` are always the hop's.
 */
export function nextEventHeaders(input: Headers, result: Headers, hop: Hop, carry: "all" | "attributes"): Headers {
  const out: Headers = {};
  const keepType = hop.type === undefined;
  for (const name in input) {
    if (name.startsWith(CE_HEADER_PREFIX)) {
      if (OWN.has(name) || (!keepType && name === CeHeaders.type)) continue;
    } else if (carry === "attributes" || name === HeaderNames.accept) continue;
    out[name] = input[name] as string[];
  }
  for (const name in result) out[name] = result[name] as string[];
  out[CeHeaders.specversion] = [CE_SPECVERSION];
  out[CeHeaders.id] = [hop.id];
  out[CeHeaders.source] = [hop.source];
  out[CeHeaders.type] ??= [hop.type ?? RIFF_MESSAGE_TYPE];
  return out;
}
