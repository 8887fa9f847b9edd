import type { Logger } from "@riff/core";
import { type ConnectionOptions, type NatsConnection, type Status, DebugEvents, Events, connect, credsAuthenticator, nkeyAuthenticator } from "nats";
import { brokerUnavailable, serverUnreachable } from "./errors.js";

/** 500 ms between reconnect attempts to one server, plus {@link RECONNECT_JITTER_MS}. */
export const RECONNECT_WAIT_MS = 500;
/** Up to 250 ms more at random per reconnect attempt, so that many riff nodes do not knock in step. */
export const RECONNECT_JITTER_MS = 250;
/**
 * A ping every 5 s; the connection counts as dead after {@link MAX_PINGS_OUT} go unanswered, so
 * a server that vanished without closing the socket (power off, network cut) is noticed in 10-15 s.
 */
export const PING_INTERVAL_MS = 5_000;
/** Unanswered pings before the connection is dropped and a reconnect starts. */
export const MAX_PINGS_OUT = 2;

/** What {@link NatsBroker.health} reports: whether the broker reaches NATS, and since when. */
export interface NatsHealth {
  /** True while the connection to a NATS server is up. */
  connected: boolean;
  /** When `connected` last changed (ms since the epoch); the start, before any change. */
  since: number;
  /** The server connected to (`host:port`), while connected. */
  server?: string;
  /** The last failure the client reported (a lost connection, an async server error). */
  lastError?: string;
}

/**
 * How riff proves who it is to NATS, and whom it trusts, besides a user and password or token
 * in the URLs (which nats.js takes from there).
 */
export interface NatsAuth {
  /** The content of a `.creds` file (a user JWT and its nkey seed). */
  creds?: string;
  /** An nkey seed (`SU...`), for servers that list users by nkey. */
  nkeySeed?: string;
  /** TLS: the CA of the servers' certificates, and a client certificate and key when asked. */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };
}

/** The nats.js options of `auth`. */
export function authOptions(auth: NatsAuth): Partial<ConnectionOptions> {
  const out: Partial<ConnectionOptions> = {};
  const encoder = new TextEncoder();
  if (auth.creds !== undefined) out.authenticator = credsAuthenticator(encoder.encode(auth.creds));
  else if (auth.nkeySeed !== undefined) out.authenticator = nkeyAuthenticator(encoder.encode(auth.nkeySeed));
  if (auth.tls !== undefined) {
    const { caFile, certFile, keyFile } = auth.tls;
    out.tls = { ...(caFile === undefined ? {} : { caFile }), ...(certFile === undefined ? {} : { certFile }), ...(keyFile === undefined ? {} : { keyFile }) };
  }
  return out;
}

/** A change of the connection, for the parts that react to it (the publisher). */
export type ConnectionEvent = "disconnect" | "reconnect";

/**
 * The broker's one NATS connection. It never gives up: it reconnects for ever, to any server of
 * the cluster, so riff needs no restart after NATS comes back. While it is down, `check()`
 * throws RIFF_BROKER_UNAVAILABLE at once rather than letting calls wait for timeouts.
 */
export class BrokerConnection {
  private state: NatsHealth;
  private readonly watchers = new Set<(event: ConnectionEvent) => void>();

  private constructor(
    readonly nc: NatsConnection,
    private readonly servers: string[],
    private readonly logger: Logger,
  ) {
    this.state = { connected: true, since: Date.now(), server: nc.getServer() };
    void this.watch();
  }

  /**
   * Connects to the first of `servers` that answers. Fails at once with RIFF_BROKER_UNAVAILABLE
   * when none does: the retries for ever only start once a first connection was made, so a
   * wrong URL is reported instead of waited on.
   */
  static async open(servers: string[], timeoutMs: number, logger: Logger, auth: NatsAuth = {}, name = "riff-broker"): Promise<BrokerConnection> {
    try {
      const nc = await connect({
        ...authOptions(auth),
        // nats.js takes `tls://` as a plain address: TLS is what the user asked for, so it is
        // required (a server without it is refused), with the system's CAs unless --nats-tls-ca.
        ...(auth.tls === undefined && servers.some((u) => u.startsWith("tls://")) ? { tls: {} } : {}),
        servers,
        timeout: timeoutMs,
        name,
        // A stack captured for every request (each KV write) cost ~10 % of the daemon's CPU
        // under load; riff's own errors say what failed and where.
        noAsyncTraces: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        reconnectJitter: RECONNECT_JITTER_MS,
        pingInterval: PING_INTERVAL_MS,
        maxPingOut: MAX_PINGS_OUT,
      });
      return new BrokerConnection(nc, servers, logger);
    } catch (err) {
      throw serverUnreachable(servers, err);
    }
  }

  /** A copy of the current state. */
  health(): NatsHealth {
    return { ...this.state };
  }

  get connected(): boolean {
    return this.state.connected && !this.nc.isClosed();
  }

  /** Throws RIFF_BROKER_UNAVAILABLE, saying since when, unless connected. */
  check(): void {
    if (!this.connected) throw brokerUnavailable(this.servers, this.state);
  }

  /** Calls `fn` on every disconnect and reconnect; returns how to stop. */
  onChange(fn: (event: ConnectionEvent) => void): () => void {
    this.watchers.add(fn);
    return () => void this.watchers.delete(fn);
  }

  /** Lets what was sent reach the server, then closes; a dead connection is just closed. */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    if (this.connected) await this.nc.drain().catch(() => this.nc.close());
    else await this.nc.close();
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) this.observe(s);
    // The iterator ends when the connection closes: by close(), or for good on a fatal error.
    this.set(false, undefined);
  }

  private observe(s: Status): void {
    const data = typeof s.data === "string" ? s.data : JSON.stringify(s.data);
    switch (s.type) {
      case Events.Disconnect:
        this.state.lastError = `lost the connection to ${data}`;
        this.logger.warn("lost the connection to NATS; reconnecting", { server: data });
        this.set(false, undefined);
        break;
      case Events.Reconnect:
        this.logger.info("reconnected to NATS", { server: data });
        this.set(true, data);
        break;
      case Events.Error:
        this.state.lastError = data;
        this.logger.warn("NATS reported an error", { error: data });
        break;
      case Events.LDM:
        this.logger.warn("the NATS server is going down (lame duck mode); riff will move to another", { server: data });
        break;
      case DebugEvents.StaleConnection:
        this.state.lastError = "the server stopped answering pings";
        break;
      default:
        break;
    }
  }

  private set(connected: boolean, server: string | undefined): void {
    const changed = connected !== this.state.connected;
    const next: NatsHealth = { connected, since: changed ? Date.now() : this.state.since };
    if (server !== undefined) next.server = server;
    if (this.state.lastError !== undefined) next.lastError = this.state.lastError;
    this.state = next;
    if (!changed) return;
    for (const fn of this.watchers) fn(connected ? "reconnect" : "disconnect");
  }
}
