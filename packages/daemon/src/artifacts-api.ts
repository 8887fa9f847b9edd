import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { isAbsolute, join } from "node:path";
import { RiffError, toRiffError } from "@riff/core";
import type { ArtifactStore } from "@riff/controller";
import { sendJson } from "@riff/gateway";
import { extract, type ReadEntry } from "tar";
import type { Route } from "./admin-api.js";

/** @default 64 MiB: the largest packed artifact `POST /artifacts` takes. */
export const DEFAULT_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
/** An archive may unpack to this many times its limit, and no more (a gzip bomb is refused). */
const UNPACKED_FACTOR = 4;
/** Entry types an artifact may hold: files and folders. Links could point outside the root. */
const ALLOWED_TYPES: ReadonlySet<string> = new Set(["File", "OldFile", "ContiguousFile", "Directory"]);
const GZIP_TYPES: ReadonlySet<string> = new Set(["application/gzip", "application/x-gzip"]);

/** What `POST /artifacts` needs. */
export interface ArtifactRoutesOptions {
  /** The mode's store: the home's for one daemon, the object store in a cluster. */
  artifacts: ArtifactStore;
  /** Where uploads are unpacked for the moment they are stored (in the home: mode 0700). */
  uploads: string;
  /** @default DEFAULT_MAX_ARTIFACT_BYTES */
  maxBytes?: number;
}

/**
 * `POST /api/v1/artifacts`: function code sent over the API (the CLI and the daemon share no
 * filesystem, as with riff in Kubernetes). The body is a gzipped tar of a folder, or of one file
 * named by the `Riff-Artifact-Entry` header; it is unpacked, refusing links, absolute paths and
 * paths that leave the root, then stored by digest. Answers 201 `{digest, entry}`.
 */
export function artifactRoutes(o: ArtifactRoutesOptions): Route[] {
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  return [["POST", /^artifacts$/, async (req, res) => {
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!GZIP_TYPES.has(type)) {
      throw new RiffError("RIFF_CONTENT_TYPE_UNSUPPORTED", `an artifact is sent as application/gzip, not '${type}'`, {
        hint: "send a gzipped tar: tar -czf code.tgz -C FOLDER . && curl --data-binary @code.tgz -H 'content-type: application/gzip' ...",
      });
    }
    const entry = checkEntry(req.headers["riff-artifact-entry"]);
    const length = Number(req.headers["content-length"] ?? NaN);
    if (length > maxBytes) {
      res.setHeader("connection", "close");
      throw tooLarge(maxBytes);
    }
    mkdirSync(o.uploads, { recursive: true, mode: 0o700 });
    const dir = mkdtempSync(join(o.uploads, "upload-"));
    try {
      await unpack(req, dir, maxBytes).catch((err: unknown) => {
        // The rest of a refused body is not read: the connection goes with the answer.
        res.setHeader("connection", "close");
        throw err;
      });
      const path = entry === "" ? dir : join(dir, entry);
      if (entry !== "" && statSync(path, { throwIfNoEntry: false })?.isFile() !== true) {
        throw invalid(`the archive holds no file '${entry}' at its root`, "pack the file itself: tar -czf code.tgz -C DIR FILE, and send Riff-Artifact-Entry: FILE");
      }
      if (entry === "" && readdirSync(dir).length === 0) throw invalid("the archive is empty", "pack the function's folder: tar -czf code.tgz -C FOLDER .");
      const digest = await o.artifacts.upload(path);
      sendJson(res, 201, { digest, entry });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }]];
}

/** The `Riff-Artifact-Entry` header: "" for a folder, else one plain file name. */
function checkEntry(header: string | string[] | undefined): string {
  const entry = (Array.isArray(header) ? header[0] : header)?.trim() ?? "";
  if (entry === "" || (!/[/\\\0]/.test(entry) && entry !== "." && entry !== "..")) return entry;
  throw invalid(`Riff-Artifact-Entry '${entry.slice(0, 80)}': must be a file name at the archive's root, without '/'`, "leave the header out (or empty) for a folder");
}

/** Unpacks the gzipped tar of `body` into `dir`, counting what comes in and what goes out. */
function unpack(body: IncomingMessage, dir: string, maxBytes: number): Promise<void> {
  let received = 0;
  let unpacked = 0;
  let refused: RiffError | undefined;
  const refuse = (err: RiffError) => {
    refused ??= err;
    return false;
  };
  const x = extract({
    cwd: dir,
    strict: true,
    // As root (in a container) tar would give files the archive's owners.
    preserveOwner: false,
    filter: (path, e) => {
      const entry = e as ReadEntry;
      if (!ALLOWED_TYPES.has(entry.type)) return refuse(invalid(`'${path.slice(0, 120)}' is a ${entry.type}: an artifact holds only files and folders`, "pack the files the links point to instead (tar -h)"));
      if (isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.split(/[/\\]/).includes("..")) {
        return refuse(invalid(`'${path.slice(0, 120)}' leaves the archive's root`, "pack with paths relative to the folder: tar -czf code.tgz -C FOLDER ."));
      }
      unpacked += entry.size;
      if (unpacked > maxBytes * UNPACKED_FACTOR) return refuse(tooLarge(maxBytes));
      return refused === undefined;
    },
  });
  return new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      body.unpipe();
      reject(refused ?? (err instanceof RiffError ? err : invalid(`not a gzipped tar: ${toRiffError(err).message}`, "send the output of tar -czf")));
    };
    x.on("error", fail);
    x.on("finish", () => (refused === undefined ? resolve() : reject(refused)));
    body.on("error", fail);
    body.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        body.removeAllListeners("data");
        fail(tooLarge(maxBytes));
        return;
      }
      if (!x.write(chunk)) {
        body.pause();
        x.once("drain", () => body.resume());
      }
    });
    body.on("end", () => x.end());
  });
}

function tooLarge(maxBytes: number): RiffError {
  return new RiffError("RIFF_ARTIFACT_TOO_LARGE", `the artifact is over ${maxBytes / 1024 / 1024} MiB packed (or ${(maxBytes * UNPACKED_FACTOR) / 1024 / 1024} MiB unpacked)`, {
    hint: "leave out what the function does not need at run time (node_modules and .git are rebuilt or skipped anyway)",
  });
}

function invalid(message: string, hint: string): RiffError {
  return new RiffError("RIFF_ARTIFACT_INVALID", message, { hint });
}
