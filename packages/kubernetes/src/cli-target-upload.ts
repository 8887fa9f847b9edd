import { statSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fromErrorBody, RiffError, type ErrorBody } from "@riff/core";
import { artifactNotFound, SKIPPED_ENTRIES } from "@riff/controller";
import { create } from "tar";
import type { UploadedCode } from "./cli-target-resources.js";

/** A function's code packed for `POST /api/v1/artifacts`: a gzipped tar, and the file's name ("" for a folder). */
export interface PackedCode {
  body: Buffer;
  entry: string;
}

/**
 * Packs a file or a folder as the gateway's artifact endpoint takes it, leaving out what the
 * digest leaves out (`.git`, `node_modules`), so the digest the cluster computes is the one a
 * local `riff apply` of the same code gets.
 */
export async function packCode(path: string): Promise<PackedCode> {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) throw artifactNotFound(path);
  const folder = st.isDirectory();
  const chunks: Buffer[] = [];
  const pack = create(
    { cwd: folder ? path : dirname(path), gzip: true, portable: true, filter: (p) => !p.split("/").some((part) => SKIPPED_ENTRIES.has(part)) },
    [folder ? "." : basename(path)],
  );
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return { body: Buffer.concat(chunks), entry: folder ? "" : basename(path) };
}

/** Uploads the code at `path` through riff's gateway (its admin API), with the admin token. */
export async function uploadCode(gateway: string, token: string, path: string): Promise<UploadedCode> {
  const { body, entry } = await packCode(path);
  const res = await fetch(new URL("/api/v1/artifacts", gateway), {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/gzip", "riff-artifact-entry": entry },
  }).catch((err: unknown) => {
    throw new RiffError("RIFF_DAEMON_UNREACHABLE", `cannot reach riff's gateway at ${gateway}: ${err instanceof Error ? String((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`, {
      hint: "forward a port to it: kubectl -n riff-system port-forward svc/riff-gateway 8080:80, then --gateway http://127.0.0.1:8080",
    });
  });
  const text = await res.text();
  if (res.status !== 201) throw gatewayError(res.status, text);
  return JSON.parse(text) as UploadedCode;
}

const TOKEN_HINT =
  "the gateway refused the token (--token, $RIFF_TOKEN, else Secret riff-admin in riff-system): a reinstall without --token makes a new Secret, which running gateways take only when they restart (kubectl -n riff-system rollout restart deployment/riff-gateway)";

/** The gateway's RiffError from a failed answer, or one that says the status. */
export function gatewayError(status: number, text: string): RiffError {
  try {
    const parsed = JSON.parse(text) as { error?: ErrorBody };
    // The daemon's own hint names a home's token file; here the token comes from the cluster.
    if (parsed.error?.code === "RIFF_UNAUTHORIZED") return fromErrorBody({ ...parsed.error, hint: TOKEN_HINT });
    if (parsed.error !== undefined) return fromErrorBody(parsed.error);
  } catch {
    // not riff's JSON: something else answered
  }
  return new RiffError(status === 401 ? "RIFF_UNAUTHORIZED" : "RIFF_INTERNAL", `riff's gateway answered HTTP ${status}: ${text.slice(0, 200)}`, {
    hint: "check --gateway points at riff's gateway (Service riff-gateway in riff-system) and the token is the cluster's",
  });
}
