import { z } from "zod";
import { parseDuration, parseSize } from "./duration.js";
import { isValidName } from "./names.js";
import { API_VERSION, MAX_RETRIES } from "./resources.js";

const name = z
  .string()
  .refine(isValidName, "must be a DNS-1123 label: lower-case letters, digits and '-', at most 63");

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDuration(value, "value");
  } catch {
    ctx.addIssue({ code: "custom", message: `'${value}' is not a duration (write 10000 or 10s)` });
    return z.NEVER;
  }
});

const size = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseSize(value, "value");
  } catch {
    ctx.addIssue({ code: "custom", message: `'${value}' is not a size (write 1048576 or 1MiB)` });
    return z.NEVER;
  }
});

/** Kubernetes' notation for memory: 512Mi, 1Gi, or bytes; also riff's own (512MiB). */
const memory = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const m = typeof value === "string" ? /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)$/.exec(value.trim()) : null;
  if (m !== null) {
    const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] as "Ki"];
    return Math.round(Number(m[1]) * unit);
  }
  try {
    return parseSize(value, "value");
  } catch {
    ctx.addIssue({ code: "custom", message: `'${value}' is not a memory size (write 512Mi, 1Gi or a number of bytes)` });
    return z.NEVER;
  }
});

/** Cores, as Kubernetes writes them: 0.5, "1", or millicores "500m". */
const cpu = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const n = typeof value === "number" ? value : /^\d+m$/.test(value.trim()) ? Number(value.trim().slice(0, -1)) / 1000 : Number(value);
  if (!Number.isFinite(n) || n < 0.01 || n > 1024) {
    ctx.addIssue({ code: "custom", message: `'${value}' is not a CPU amount (write 0.5, 2 or 500m; at least 10m)` });
    return z.NEVER;
  }
  return n;
});

const metadata = z.strictObject({ name, labels: z.record(z.string(), z.string()).optional() });

/** The schema of a Function document. */
export const functionSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Function"),
  metadata,
  spec: z.strictObject({
    invoker: name,
    input: z.union([name, z.array(name).min(1)]),
    output: name.optional(),
    handler: z.string().min(1).optional(),
    artifact: z.string().min(1),
    maxReplicas: z.number().int().min(1).optional(),
    minReplicas: z.number().int().min(0).optional(),
    idleTimeoutMs: duration.optional(),
    // Node's timers stop at 2^31-1 ms (24.8 days): a longer one would fire at once.
    timeoutMs: duration.pipe(z.number().min(1, "must be at least 1ms").max(2_147_483_647, "must be at most 24 days (24d)")).optional(),
    concurrency: z.number().int().min(1).max(1024).optional(),
    ordering: z.enum(["partition", "none"]).optional(),
    allowCycle: z.boolean().optional(),
    replyFrom: z.enum(["self", "end"]).optional(),
    retries: z.number().int().min(0).max(MAX_RETRIES).optional(),
    deadLetter: name.optional(),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string())
      .superRefine((env, ctx) => {
        // riff sets these for every replica: a value here would be dropped without a word.
        for (const key of Object.keys(env)) {
          if (key === "PATH" || key === "HOME" || key.startsWith("RIFF_")) {
            ctx.addIssue({ code: "custom", path: [key], message: `is set by riff for every replica (${key.startsWith("RIFF_") ? "RIFF_* names are riff's" : key === "HOME" ? "the function's own folder" : "the daemon's programs"}); use another name` });
          }
        }
      })
      .optional(),
    resources: z
      .strictObject({
        memory: memory.pipe(z.number().min(16 * 1024 * 1024, "must be at least 16Mi")).optional(),
        cpu: cpu.optional(),
        pids: z.number().int().min(8, "must be at least 8").max(65536).optional(),
      })
      .optional(),
    network: z.enum(["host", "none"]).optional(),
    secrets: z.array(name).optional(),
  }),
});

/** The schema of a Topic document. */
export const topicSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Topic"),
  metadata,
  spec: z
    .strictObject({
      partitions: z.number().int().min(1).max(1024).optional(),
      retentionMs: duration.optional(),
      retentionBytes: size.optional(),
      durability: z.enum(["process", "fsync"]).optional(),
      // 1 or 3: JetStream's usual sizes (an even count adds no fault tolerance, 5 is rarely worth it).
      replicas: z.union([z.literal(1), z.literal(3)], { error: "must be 1 or 3 (3 needs riff on a NATS cluster of 3 or more servers)" }).optional(),
      rate: z.number().positive().max(1_000_000).optional(),
    })
    .default({}),
});

/** The schema of an Invoker document: a language declared in YAML. */
export const invokerSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("Invoker"),
  metadata,
  spec: z.strictObject({
    description: z.string().optional(),
    command: z.array(z.string().min(1)).min(1),
    protocol: z.enum(["frames", "http", "lines", "exec"]),
    matchers: z.array(z.string().min(1)).min(1).optional(),
    handler: z.strictObject({ default: z.string().min(1).optional(), description: z.string().optional() }).optional(),
    concurrency: z.number().int().min(1).max(1024).optional(),
  }),
});

/** One schema for every resource, chosen by `kind`. */
export const resourceSchema = z.discriminatedUnion("kind", [functionSchema, topicSchema, invokerSchema]);
