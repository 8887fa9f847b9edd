import type { Logger } from "@riff/core";
import { RiffError } from "@riff/core";
import type { JetStreamClient, JetStreamManager } from "nats";
import { type ClusterView, capacityOf, clusterOf, describeCluster } from "./cluster.js";
import type { BrokerConnection } from "./connection.js";
import { JsErrorCodes, apiErrorCode, jetStreamDisabled } from "./errors.js";
import { DEFAULT_GROUP_TIMING, GroupCoordinator } from "./group-coordinator.js";
import { KvBucket } from "./kv-bucket.js";
import { MetaStore } from "./meta-store.js";
import { electionLike } from "./errors.js";
import { withPatience } from "./patience.js";
import { readerManager } from "./reader.js";
import { OffsetStore } from "./offset-store.js";
import type { NatsNames } from "./names.js";
import type { ResolvedNatsBrokerOptions } from "./options.js";
import { PartitionStreams } from "./partition-streams.js";
import { StreamPublisher } from "./publisher.js";

/** The connection and what a running broker builds on it. */
export interface Session {
  conn: BrokerConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The manager readers are made with (quick to give up, see openReader). */
  readers: JetStreamManager;
  streams: PartitionStreams;
  meta: MetaStore;
  offsets: OffsetStore;
  /** Consumer groups across the instances sharing the prefix. */
  coordinator: GroupCoordinator;
  publisher: StreamPublisher;
  /** Copies a topic gets when it does not say. */
  defaultReplicas: number;
  /** The server's largest message, headers included. */
  maxPayload: number;
  /** The most copies a topic may ask for now (the cluster may have changed since the start). */
  capacity(): number;
  /** What riff knows of the cluster now, for messages. */
  cluster(): ClusterView;
  /** Stops the publisher and closes the connection, letting what was sent arrive. */
  close(): Promise<void>;
}

/**
 * Builds a session on a fresh connection: JetStream, the default replica count, the KV bucket
 * (created with that many copies; an existing one keeps its own), the streams and the publisher, whose in-flight publishes are
 * retried or failed when the connection drops.
 *
 * The default comes from the cluster the server advertises (3 on 3 or more servers, else 1;
 * see {@link clusterOf}), unless the options name one. Creating the KV bucket checks it: a
 * cluster that cannot place 3 copies (servers without JetStream, `no_advertise` confusion)
 * falls back to 1 with a warning, or fails the start if the options asked for 3.
 */
export async function openSession(
  conn: BrokerConnection,
  options: ResolvedNatsBrokerOptions,
  names: NatsNames,
  idPrefix: string,
  logger: Logger,
): Promise<Session> {
  const { nc } = conn;
  const { servers, timeoutMs } = options;
  // A server without JetStream says so in its INFO; one whose JetStream does not answer yet
  // (a meta leader being elected after a server loss) is waited for.
  if (nc.info?.jetstream === false) throw jetStreamDisabled(servers, new Error("the server's INFO says jetstream: false"));
  const jsm = await withPatience("connecting to JetStream", () => nc.jetstreamManager({ timeout: timeoutMs }), logger).catch((err: unknown) => {
    throw electionLike(err) ? err : jetStreamDisabled(servers, err);
  });
  const js = nc.jetstream({ timeout: timeoutMs });
  const cluster = (): ClusterView => clusterOf(nc.info, nc.getServer());
  const metaOptions = { js, jsm, bucket: names.bucket, timeoutMs, check: () => conn.check(), logger };
  let defaultReplicas = options.replicas ?? capacityOf(cluster());
  let meta: MetaStore;
  try {
    meta = await withPatience("opening the topics' bucket", () => MetaStore.open({ ...metaOptions, replicas: defaultReplicas }), logger);
  } catch (err) {
    const code = apiErrorCode(err);
    if (defaultReplicas === 1 || (code !== JsErrorCodes.noSuitablePeers && code !== JsErrorCodes.replicasNotClustered)) throw err;
    if (options.replicas !== undefined) throw replicasOptionUnavailable(options.replicas, cluster(), err);
    logger.warn("the NATS cluster cannot place 3 copies; topics get 1 unless they ask", { cluster: describeCluster(cluster()) });
    defaultReplicas = 1;
    meta = await MetaStore.open({ ...metaOptions, replicas: 1 });
  }
  if (meta.replicas < defaultReplicas) {
    // Not raised here: the bucket's stream elects a new leader while it grows, and riff's own
    // start-up reads would time out meanwhile. An operator does it once, at a quiet moment.
    logger.warn("the KV bucket keeps fewer copies than this cluster's topics; raise it with: nats stream edit --replicas", {
      stream: `KV_${names.bucket}`,
      replicas: meta.replicas,
      wanted: defaultReplicas,
    });
  }
  const bucket = { ...metaOptions, replicas: meta.replicas };
  const offsets = new OffsetStore(await withPatience("opening the offsets' bucket", () => KvBucket.open({ ...bucket, bucket: names.offsets }), logger));
  const timing = { ...DEFAULT_GROUP_TIMING, ...options.groupTiming };
  const leases = await withPatience("opening the leases' bucket", () => KvBucket.open({ ...bucket, bucket: names.leases, ttlMs: timing.leaseTtlMs }), logger);
  const readers = await readerManager(nc);
  const streams = new PartitionStreams(jsm, js, names, timeoutMs, readers);
  const coordinator = new GroupCoordinator({
    nc,
    leases,
    offsets,
    subject: names.groupsSubject,
    instance: options.instance,
    isConnected: () => conn.connected,
    timing,
    logger,
  });
  coordinator.start();
  const publisher = new StreamPublisher(nc, {
    idPrefix,
    window: options.publishWindow,
    ackTimeoutMs: options.publishAckTimeoutMs,
    retryMs: options.publishRetryMs,
    isConnected: () => conn.connected,
    logger,
  });
  const unwatch = conn.onChange((event) => {
    if (event === "disconnect") publisher.connectionLost();
  });
  return {
    conn,
    js,
    jsm,
    readers,
    streams,
    meta,
    offsets,
    coordinator,
    publisher,
    defaultReplicas,
    maxPayload: nc.info?.max_payload ?? 1024 * 1024,
    capacity: () => Math.max(capacityOf(cluster()), meta.replicas, options.replicas ?? 1),
    cluster,
    async close() {
      // Claims first: the next holders may take the partitions at once.
      await coordinator.stop().catch((err: unknown) => logger.warn("giving up partition leases failed", { err: String(err) }));
      unwatch();
      publisher.close();
      await conn.close();
    },
  };
}

/** The `replicas` option asks for more copies than the servers can place. */
function replicasOptionUnavailable(replicas: number, view: ClusterView, cause: unknown): RiffError {
  return new RiffError(
    "RIFF_INVALID_ARGUMENT",
    `NATS broker option replicas is ${replicas}, but the servers cannot keep that many copies: ${describeCluster(view)}`,
    { hint: "leave the option out (riff then uses what the cluster allows), or run a NATS cluster of 3 or more servers", cause },
  );
}
