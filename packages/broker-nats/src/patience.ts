import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@riff/core";
import { electionLike } from "./errors.js";

/** @default 60 s: how long a start waits for JetStream to answer (an election after a server loss takes 5-10 s). */
export const DEFAULT_START_PATIENCE_MS = 60_000;

/**
 * Runs `attempt` until it succeeds, while its failures look like a leader election, for at
 * most `patienceMs`: a riff node started while part of the NATS cluster is down waits for
 * the cluster to elect new leaders instead of failing. Other failures are thrown at once.
 */
export async function withPatience<T>(what: string, attempt: () => Promise<T>, logger: Logger, patienceMs = DEFAULT_START_PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (!electionLike(err) || Date.now() >= deadline) throw err;
      if (tries === 1) logger.warn(`${what}: JetStream does not answer yet (a leader election?); waiting`, { err: String(err) });
      await sleep(Math.min(2000, 250 * tries));
    }
  }
}
