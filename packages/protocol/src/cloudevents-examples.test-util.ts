/**
 * The CloudEvents 1.0 specification's own examples, shared by the parser's unit tests and the
 * gateway's end-to-end test.
 */

/** The http-protocol-binding spec's binary-mode request (section 3.1.4), as request headers. */
export const SPEC_BINARY_HEADERS = {
  "ce-specversion": "1.0",
  "ce-type": "com.example.someevent",
  "ce-time": "2018-04-05T03:56:24Z",
  "ce-id": "1234-1234-1234",
  "ce-source": "/mycontext/subcontext",
  "content-type": "application/json; charset=utf-8",
} as const;

/** The JSON format spec's event with String data (formats/json-format.md, section 5). */
export const SPEC_STRING_DATA = {
  specversion: "1.0",
  type: "com.example.someevent",
  source: "/mycontext",
  id: "A234-1234-1234",
  time: "2018-04-05T17:31:00Z",
  comexampleextension1: "value",
  comexampleothervalue: 5,
  datacontenttype: "text/xml",
  data: '<much wow="xml"/>',
} as const;

/** The JSON format spec's event with Binary data; the base64 is "hello world". */
export const SPEC_BINARY_DATA = {
  specversion: "1.0",
  type: "com.example.someevent",
  source: "/mycontext",
  id: "B234-1234-1234",
  time: "2018-04-05T17:31:00Z",
  comexampleextension1: "value",
  comexampleothervalue: 5,
  datacontenttype: "application/vnd.apache.thrift.binary",
  data_base64: "aGVsbG8gd29ybGQ=",
} as const;

/** The JSON format spec's event with JSON data. */
export const SPEC_JSON_DATA = {
  ...SPEC_STRING_DATA,
  id: "C234-1234-1234",
  datacontenttype: "application/json",
  data: { appinfoA: "abc", appinfoB: 123, appinfoC: true },
} as const;

/** {@link SPEC_STRING_DATA} in binary form: its attributes as riff stores them. */
export const SPEC_STRING_DATA_HEADERS = {
  "ce-specversion": ["1.0"],
  "ce-type": ["com.example.someevent"],
  "ce-source": ["/mycontext"],
  "ce-id": ["A234-1234-1234"],
  "ce-time": ["2018-04-05T17:31:00Z"],
  "ce-comexampleextension1": ["value"],
  "ce-comexampleothervalue": ["5"],
};
