import { describe, expect, it } from "vitest";
import { html, raw } from "./html.js";

describe("html", () => {
  it("escapes every interpolated string, in text and in attributes", () => {
    const payload = `<img src=x onerror="alert(1)">'&\``;
    expect(html`<td title="${payload}">${payload}</td>`.text).toBe(
      "<td title=\"&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;\">&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;&#96;</td>",
    );
  });

  it("keeps nested fragments and arrays, and drops null, undefined and false", () => {
    const rows = ["a<", "b"].map((n) => html`<li>${n}</li>`);
    expect(html`<ul>${rows}${null}${undefined}${false}${0}</ul>`.text).toBe("<ul><li>a&lt;</li><li>b</li>0</ul>");
    expect(html`${raw("<b>x</b>")}`.text).toBe("<b>x</b>");
  });
});
