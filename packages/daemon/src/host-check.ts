import { isIP } from "node:net";
import { hostname } from "node:os";
import { RiffError } from "@riff/core";

/** Addresses that mean "every interface": the daemon is then reached by any of the host's. */
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * A check of the admin API's `Host` header against DNS rebinding: a web page whose name the
 * attacker points at 127.0.0.1 sends its own name as Host, which is refused here. Accepted:
 * loopback names and addresses, the address riff listens on, and, when it listens on every
 * interface, any IP address and this machine's name (no DNS name an attacker controls).
 */
export function createHostCheck(listenHost: string): (host: string | undefined) => void {
  const listen = bare(listenHost.toLowerCase());
  const wildcard = WILDCARDS.has(listen);
  const machine = hostname().toLowerCase();
  const allowed = (name: string): boolean => {
    if (name === "localhost" || name.endsWith(".localhost") || name === listen) return true;
    if (isLoopback(name)) return true;
    return wildcard && (isIP(name) !== 0 || name === machine);
  };
  return (host) => {
    // HTTP/1.0 clients may send none; a browser always does.
    if (host === undefined) return;
    const name = hostName(host);
    if (name !== undefined && allowed(name)) return;
    throw new RiffError("RIFF_HOST_NOT_ALLOWED", `the admin API does not answer requests for host '${host.slice(0, 100)}'`, {
      hint: `call it as localhost, 127.0.0.1 or ${listenHost} (the address riff listens on): other names could be a web page's DNS rebinding`,
      details: { header: "Host" },
    });
  };
}

/** The name in a Host header, lower-cased and without port or IPv6 brackets; undefined if garbled. */
function hostName(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end === -1 ? undefined : h.slice(1, end);
  }
  const colon = h.indexOf(":");
  const name = colon === -1 ? h : h.slice(0, colon);
  // A trailing dot names the same host (localhost.), and is how some rebinding tricks slip by.
  return name.endsWith(".") ? name.slice(0, -1) : name;
}

function bare(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** A loopback address (127.0.0.0/8, ::1) or the name `localhost`. */
export function isLoopback(name: string): boolean {
  if (name === "localhost") return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  if (isIP(name) === 6) return name === "::1" || name === "0:0:0:0:0:0:0:1" || name.startsWith("::ffff:127.");
  return false;
}
