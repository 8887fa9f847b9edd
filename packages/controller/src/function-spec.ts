import { deadLetterTopicOf, type ResolvedFunction } from "@riff/core";

/**
 * The digest of a function whose code is in the image its pods run (Kubernetes,
 * `spec.container.image`), followed by the image's name: the code is read from `artifact` in
 * the pod's own file system, not fetched from the artifact store.
 */
export const IMAGE_DIGEST_PREFIX = "image:";

/** A deployed function as the stores keep it: its resolved spec and the revision it runs. */
export interface StoredFunction extends ResolvedFunction {
  /** Grows with every change of code or settings; replicas and logs name it. */
  revision: number;
  /** Content digest of the artifact (see artifactDigest), by which every node fetches it. */
  digest: string;
  /** The artifact's path inside a revision folder: its file name, or "" for a folder. */
  entry: string;
  createdAt: string;
  updatedAt: string;
  /**
   * The revisions before this one, oldest first, at most {@link MAX_KEPT_REVISIONS}: what
   * `riff revisions` lists and `riff rollback` goes back to. Their code stays in the artifact
   * store by its digest.
   */
  history?: RevisionEntry[];
}

/** An earlier revision of a function: its spec and code digest as they were. */
export type RevisionEntry = Omit<StoredFunction, "history">;

/** @default 10: earlier revisions a function keeps for `riff rollback`. */
export const MAX_KEPT_REVISIONS = 10;

/** The history a function's next revision keeps: the current one added, the oldest dropped past the cap. */
export function historyAfter(current: StoredFunction | undefined): RevisionEntry[] | undefined {
  if (current === undefined) return undefined;
  const { history = [], ...entry } = current;
  return [...history, entry].slice(-MAX_KEPT_REVISIONS);
}

/** Settings whose change needs new replicas, but not a new runner. */
const SETTINGS = [
  "invoker",
  "output",
  "allowCycle",
  "replyFrom",
  "handler",
  "artifact",
  "maxReplicas",
  "minReplicas",
  "idleTimeoutMs",
  "timeoutMs",
  "concurrency",
  "ordering",
  "retries",
  "deadLetter",
] as const;

/** Whether two resolved functions have the same settings (the code is compared by digest). */
export function sameSpec(a: ResolvedFunction, b: ResolvedFunction): boolean {
  if (a.inputs.join() !== b.inputs.join()) return false;
  return SETTINGS.every((k) => a[k] === b[k]) && JSON.stringify([a.env, a.resources, a.network, a.secrets]) === JSON.stringify([b.env, b.resources, b.network, b.secrets]);
}

/**
 * Whether a runner of `a` can take `b` as an update: the topics it reads and writes and how it
 * orders them are the runner's own wiring, so a change there needs a new runner.
 */
export function sameTopology(a: ResolvedFunction, b: ResolvedFunction): boolean {
  return a.inputs.join() === b.inputs.join() && a.output === b.output && a.ordering === b.ordering && deadLetterTopicOf(a) === deadLetterTopicOf(b);
}

/**
 * Whether `a` and `b` are one revision. The number alone is not enough: two applies racing
 * from one revision both call theirs the next, and a node may hold the loser's for a moment.
 */
export function sameRevision(a: StoredFunction, b: StoredFunction): boolean {
  return a.revision === b.revision && a.digest === b.digest && sameSpec(a, b);
}
