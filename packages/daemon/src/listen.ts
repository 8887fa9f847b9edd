import type { Server } from "node:http";
import { RiffError } from "@riff/core";

/** Which flags set a server's port and address, for its errors. */
export interface ListenFlags {
  /** e.g. "--port", "--metrics-port" */
  port: string;
  /** The hint's example of the port flag, e.g. "riff system start --port 8081". */
  example: string;
}

/**
 * Listens on `host:port`; the errors a user's flags cause (a port in use, an address that is not
 * this machine's, a name that does not resolve, a port below 1024 without root) become
 * RiffErrors naming the flag at fault, not a crash report.
 */
export function listen(server: Server, port: number, host: string, flags: ListenFlags): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(listenError(err, port, host, flags)));
    server.listen(port, host, () => resolve());
  });
}

function listenError(err: NodeJS.ErrnoException, port: number, host: string, flags: ListenFlags): Error {
  switch (err.code) {
    case "EADDRINUSE":
      return new RiffError("RIFF_PORT_IN_USE", `${flags.port} ${port} on ${host} is already in use`, {
        hint: `stop what uses it, or pick another port: ${flags.example}`,
      });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new RiffError("RIFF_INVALID_ARGUMENT", `--host ${host}: ${err.code === "EADDRNOTAVAIL" ? "not an address of this machine" : "the name does not resolve to an address"}`, {
        hint: "listen on 127.0.0.1 (the default), or on an address this machine has (see `ip addr`): riff system start --host 127.0.0.1",
        details: { field: "--host" },
      });
    case "EACCES":
      return new RiffError("RIFF_INVALID_ARGUMENT", `${flags.port} ${port}: ports below 1024 need root`, {
        hint: `pick a port from 1024 up: ${flags.example}`,
        details: { field: flags.port },
      });
    default:
      return err;
  }
}
