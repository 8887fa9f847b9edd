/**
 * Names of what a riff cluster keeps in NATS, under its name (the prefix its topics use too),
 * so that several riff clusters can share one NATS cluster. Control subjects live under
 * `_RIFF.<cluster>.`, apart from topic subjects, so no topic name can collide with them.
 */
export function clusterNames(cluster: string) {
  const control = `_RIFF.${cluster}`;
  return {
    /** Functions, invokers and placements (R3, with history). */
    resources: `${cluster}_resources`,
    /** Function code by digest. */
    artifacts: `${cluster}_artifacts`,
    /** The controller's lease (ttl). */
    leader: `${cluster}_leader`,
    /** The admin token and other cluster-wide settings. */
    settings: `${cluster}_cluster`,
    /** Node heartbeats. */
    nodes: `${control}.nodes`,
    /** Replies to `/requests` callers waiting on node `node`. */
    reply: (node: string) => `${control}.reply.${node}`,
    /** Requests to every node for a function's recent log lines. */
    logsRead: `${control}.logs.read`,
    /** A function's log lines as they are written, from every node. */
    logLines: (fn: string) => `${control}.logs.fn.${fn}`,
    /** Questions for the leader (rates and decisions of a function). */
    leaderAsk: `${control}.leader.ask`,
  };
}

export type ClusterNames = ReturnType<typeof clusterNames>;
