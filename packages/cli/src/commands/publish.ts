import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { basename, join } from "node:path";
import { RiffError } from "@riff/core";
import { DaemonClient, errorFrom } from "../client.js";
import { apiClient } from "../target.js";
import { badArgument, flagDuration, flagWholeNumber, info } from "../output.js";

/** An HTTP header name: RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Options of `riff publish`. */
export interface PublishOptions {
  input?: string;
  data: string;
  reply?: boolean;
  contentType: string;
  header: string[];
  count: string;
  /** riff 0.0.x's `--pause`: seconds between two of `--count` messages. */
  pause?: string;
  timeout?: string;
  id?: string;
}

/**
 * The topic when -i is not given, as riff's CLI chose it: the input of the function whose
 * NAME-function.yaml is the only one in this folder, else the folder's name.
 */
function defaultInput(dir: string): string {
  const yamls = readdirSync(dir).filter((f) => f.endsWith("-function.yaml"));
  const only = yamls.length === 1 ? yamls[0] : undefined;
  if (only !== undefined) {
    const m = /^\s*input:\s*([a-z0-9-]+)\s*$/m.exec(readFileSync(join(dir, only), "utf8"));
    if (m?.[1] !== undefined) return m[1];
  }
  return basename(dir);
}

/** `riff publish`: posts to the gateway; the reply body alone goes to stdout. */
export async function publish(home: string, o: PublishOptions): Promise<void> {
  const count = flagWholeNumber(o.count, "--count", 1) ?? 1;
  // riff 0.0.x's -p was --pause (seconds); here it is the content type, as riff's README has it.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;.*)?$/.test(o.contentType)) {
    const pause = /^\d+(\.\d+)?$/.test(o.contentType) ? `; riff 0.0.x's -p (seconds between messages) is --pause ${o.contentType} here` : "";
    throw badArgument(`--content-type ${o.contentType}: not a media type (type/subtype)${pause}`, "for example -p application/json or --content-type text/plain");
  }
  const pauseMs = o.pause === undefined ? 0 : seconds(o.pause);
  const input = o.input ?? defaultInput(process.cwd());
  const headers: Record<string, string> = { "content-type": o.contentType };
  for (const h of o.header) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw badArgument(`--header ${h}: write it as name:value`, "for example --header x-tenant:acme");
    // What fetch would refuse with a TypeError: say which flag is wrong instead.
    if (!HEADER_NAME.test(h.slice(0, colon).trim()) || /[\r\n\0]/.test(h)) {
      throw badArgument(`--header ${JSON.stringify(h)}: not a valid HTTP header (a name of letters, digits and -, then ':' and a value on one line)`, "for example --header x-tenant:acme");
    }
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  if (o.timeout !== undefined) {
    const ms = flagDuration(o.timeout, "--timeout");
    if (!(ms >= 1 && ms <= 2_147_483_647)) throw badArgument(`--timeout ${o.timeout}: wait from 1ms to 24d`, "for example --timeout 5m");
    headers["x-riff-timeout"] = `${ms}ms`;
  }
  // The same id within 2 minutes publishes once: a retry of this command is safe.
  if (o.id !== undefined) headers["idempotency-key"] = o.id;
  const client = await apiClient(home);
  const path = `/${o.reply === true ? "requests" : "messages"}/${encodeURIComponent(input)}`;
  info(`Posting to ${client.info.url}${path}`);
  for (let i = 0; i < count; i++) {
    if (i > 0 && pauseMs > 0) await sleep(pauseMs);
    // The admin token: the operator may publish whatever API keys the gateway wants of others.
    const res = await client.fetch(path, { method: "POST", headers, body: o.data, auth: headers["authorization"] === undefined });
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) {
      const err = errorFrom(res.status, body.toString("utf8"));
      // The gateway's hint names its header; here the flag is what the user can change.
      if (err instanceof RiffError && err.code === "RIFF_REPLY_TIMEOUT") {
        throw new RiffError(err.code, err.message, {
          hint: "the message is kept and will still be processed; wait longer with --timeout (e.g. --timeout 2m), or see what the function does with `riff logs -n NAME`",
        });
      }
      if (err instanceof RiffError && err.code === "RIFF_FUNCTION_ERROR" && err.hint === undefined) {
        throw new RiffError(err.code, err.message, {
          hint: `the function failed on this message: its stack is in riff invocations NAME --status error, and its output in riff logs -n NAME (NAME: the function reading ${input})`,
          details: err.details,
        });
      }
      throw err;
    }
    if (o.reply === true) {
      process.stdout.write(body);
      if (body.length === 0 || body[body.length - 1] !== 0x0a) process.stdout.write("\n");
    } else {
      const p = JSON.parse(body.toString("utf8")) as { topic: string; partition: number; offset: number };
      process.stdout.write(`published to topic ${p.topic}, partition ${p.partition}, offset ${p.offset}\n`);
    }
  }
}

/** `--pause` in seconds (riff 0.0.x's unit), as milliseconds. */
function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n <= 3600)) throw badArgument(`--pause ${value}: give seconds from 0 to 3600`, "for example --count 5 --pause 1");
  return n * 1000;
}
