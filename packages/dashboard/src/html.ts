/**
 * HTML that is safe by construction: the `html` tag escapes every interpolated value unless it
 * is already {@link SafeHtml} (made by `html` itself or, for the few trusted fragments, `raw`).
 * Payloads, names, log lines and error messages all pass through here, so none can run script.
 */

/** A fragment of markup known to be safe to insert as it is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

/** A value interpolated into `html`: nested fragments, arrays of them, text, numbers; nothing for null. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join("");
  return escapeHtml(String(value));
}

/** The tag: `html\`<td>${name}</td>\`` escapes `name`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

/** Trusted markup as it is: only for constants and output of this package's own renderers. */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** A value for a URL query or path part, then escaped by `html` as an attribute. */
export function q(value: string): string {
  return encodeURIComponent(value);
}
