import { readFile } from "node:fs/promises";
import { RiffError } from "@riff/core";
import type { NatsAuth } from "@riff/broker-nats";
import type { NatsAuthFiles } from "./options.js";

/** Reads the credential files named by the options; a missing or unreadable one is named. */
export async function natsAuth(files: NatsAuthFiles | undefined): Promise<NatsAuth> {
  if (files === undefined) return {};
  const read = async (path: string | undefined, flag: string) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `${flag} ${path}: cannot read it (${(err as Error).message})`, {
        hint: `check the path, and that riff's user can read it`,
      });
    }
  };
  const auth: NatsAuth = {};
  const creds = await read(files.creds, "--nats-creds");
  if (creds !== undefined) auth.creds = creds;
  const nkey = await read(files.nkey, "--nats-nkey");
  if (nkey !== undefined) auth.nkeySeed = nkey.trim();
  if (files.tlsCa !== undefined || files.tlsCert !== undefined || files.tlsKey !== undefined) {
    if ((files.tlsCert === undefined) !== (files.tlsKey === undefined)) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", "--nats-tls-cert and --nats-tls-key go together", { hint: "give both (a client certificate and its key), or neither" });
    }
    for (const [path, flag] of [[files.tlsCa, "--nats-tls-ca"], [files.tlsCert, "--nats-tls-cert"], [files.tlsKey, "--nats-tls-key"]] as const) await read(path, flag);
    auth.tls = { caFile: files.tlsCa, certFile: files.tlsCert, keyFile: files.tlsKey };
  }
  return auth;
}
