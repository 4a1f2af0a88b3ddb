/**
 * Writing the outputs of one run together: every file (module, JS glue, `.d.ts`) goes to a
 * temporary file beside it, and only when all of them are written are they renamed into place. A
 * failure, SIGINT or SIGTERM leaves none of them and no temporary file; a temporary file left by a
 * killed run (SIGKILL, a power cut) is removed by the next run that writes the same output.
 *
 * Renaming needs Deno's read permission on the output folder as well as write. With write only
 * (`--allow-write=dist` and no `--allow-read=dist`) the files are written in place instead, and a
 * failure removes the ones this run wrote.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { FileError, fileError } from "./errors.ts";

/** One file of a run's output. */
export interface OutputFile {
  /** Where it goes. */
  path: string;
  /** Its contents; a list of chunks is written without joining them. */
  contents: Uint8Array | string | readonly Uint8Array[];
  /** File mode; default: the mode of the file it replaces, else the default for new files. */
  mode?: number;
}

/** Options of {@linkcode writeOutputs}. */
export interface WriteOutputsOptions {
  /** Create missing output folders (default true); false makes a missing folder an error. */
  createFolders?: boolean;
  /** Replace read-only files (default false: a read-only output is refused). */
  force?: boolean;
  /** Remove temporary files that killed runs left for these outputs (default true). */
  cleanStale?: boolean;
}

/** What {@linkcode writeOutputs} did. */
export interface WriteOutputsResult {
  /** False when the files were written in place (no read permission on a folder). */
  atomic: boolean;
  /** Folders created for the outputs, outermost first. */
  createdFolders: string[];
  /** Temporary files of killed runs that were removed. */
  staleRemoved: string[];
}

/** Files this process is writing right now: removed if a signal stops it. */
const pending = new Set<string>();
let listening = 0;
const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
const exitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const handlers = new Map<Deno.Signal, () => void>();

/**
 * While outputs are being written, SIGINT/SIGTERM remove the unfinished files and then end the
 * process with the shell's code for the signal (130, 143), as the default action would have.
 */
function listen(): void {
  if (listening++ > 0) return;
  for (const signal of signals) {
    const handler = () => {
      for (const path of pending) removeQuietly(path);
      Deno.exit(exitCodes[signal] ?? 1);
    };
    handlers.set(signal, handler);
    try {
      Deno.addSignalListener(signal, handler);
    } catch { /* signals unsupported here */ }
  }
}

function unlisten(): void {
  if (--listening > 0) return;
  for (const [signal, handler] of handlers) {
    try {
      Deno.removeSignalListener(signal, handler);
    } catch { /* not registered */ }
  }
  handlers.clear();
}

/** True when Deno lets this process read `path` without asking. */
function canRead(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

/** Creates `dir` and missing parents (needs write permission only); returns what it created. */
function makeFolder(dir: string, created: string[]): void {
  try {
    Deno.mkdirSync(dir);
    created.push(dir);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return;
    if (e instanceof Deno.errors.NotFound && dirname(dir) !== dir) {
      makeFolder(dirname(dir), created);
      Deno.mkdirSync(dir);
      created.push(dir);
      return;
    }
    throw fileError("create the folder", dir, e);
  }
}

/**
 * Where writing `path` must go: the file a symbolic link at `path` points to (the link stays a
 * link, as with any program that opens the path for writing), else `path` itself.
 */
function linkTarget(path: string): string {
  try {
    if (Deno.lstatSync(path).isSymlink) return Deno.realPathSync(path);
  } catch { /* no link, a dangling one, or no permission to look: the path itself */ }
  return path;
}

/**
 * One turn of the event loop (pending signal handlers run), by an awaited `stat` of `file`;
 * returns its size. Without read permission, by a timer (Deno's first one costs ~15 ms, which is
 * why the `stat` comes first), and the size is unknown.
 */
async function turn(file: Deno.FsFile): Promise<number | undefined> {
  try {
    return (await file.stat()).size;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return undefined;
  }
}

/** Bytes written between two turns of the event loop. */
const YIELD_BYTES = 8 << 20;

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}

/** The temporary file of `path` for this process: `.name.<pid>-<random>.tmp` beside it. */
function tempName(path: string): string {
  const id = crypto.randomUUID().slice(0, 8);
  return join(dirname(path), `.${basename(path)}.${Deno.pid}-${id}.tmp`);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** True unless `pid` certainly is not running (Linux's /proc, when readable, says so). */
function alive(pid: number): boolean | undefined {
  if (pid === Deno.pid) return true;
  if (Deno.build.os !== "linux" || !canRead(`/proc/${pid}`)) return undefined;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the temporary files of `path` that killed runs left: those of a process that is gone,
 * or (when that cannot be told) older than ten minutes.
 */
function removeStale(path: string, removed: string[]): void {
  const dir = dirname(path);
  const pattern = new RegExp(`^\\.${escape(basename(path))}\\.(\\d+)-[0-9a-f]{8}\\.tmp$`);
  try {
    for (const entry of Deno.readDirSync(dir)) {
      const m = pattern.exec(entry.name);
      if (!m || !entry.isFile) continue;
      const file = join(dir, entry.name);
      let stale = alive(Number(m[1])) === false;
      if (!stale && alive(Number(m[1])) === undefined) {
        const mtime = Deno.lstatSync(file).mtime?.getTime() ?? Date.now();
        stale = Date.now() - mtime > 10 * 60_000;
      }
      if (stale) {
        Deno.removeSync(file);
        removed.push(file);
      }
    }
  } catch { /* best effort: a folder we cannot list keeps its leftovers */ }
}

async function writeChunks(
  path: string,
  contents: OutputFile["contents"],
  open: Deno.OpenOptions,
  opened?: () => void,
): Promise<void> {
  const file = Deno.openSync(path, { write: true, ...open });
  opened?.();
  try {
    const chunks = typeof contents === "string"
      ? [new TextEncoder().encode(contents)]
      : contents instanceof Uint8Array
      ? [contents]
      : contents;
    // Synchronous writes (no thread hop per call). Every few MB, and at the end, the event loop
    // turns (`turn`), so that a signal that stops the run is handled (and the temporary files
    // removed) before anything is renamed; the last turn also checks that every byte is there.
    let total = 0;
    let sinceYield = 0;
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) written += file.writeSync(chunk.subarray(written));
      total += chunk.length;
      sinceYield += chunk.length;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await turn(file);
      }
    }
    const size = await turn(file);
    if (size !== undefined && size !== total) {
      throw new Deno.errors.WriteZero(`${size} of ${total} bytes are in the file`);
    }
  } finally {
    file.close();
  }
}

/** The file at `path` before the run: its mode, or a refusal (a folder, a read-only file). */
function existing(path: string, force: boolean): number | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw fileError("write", path, e);
  }
  if (info.isDirectory) {
    throw new FileError("write", path, `Cannot write "${path}": it is a directory; name a file`);
  }
  if (!info.isFile) {
    throw new FileError(
      "write",
      path,
      `Cannot write "${path}": it is not a regular file (a device or a pipe); name a file`,
    );
  }
  const mode = info.mode === null ? undefined : info.mode & 0o7777;
  if (mode !== undefined && (mode & 0o222) === 0 && !force) {
    throw new FileError(
      "replace",
      path,
      `Cannot replace "${path}": it is read-only; make it writable (chmod u+w) or pass --force`,
    );
  }
  return mode;
}

/**
 * Fails early, before a long run, when `path` cannot be an output: it is a folder, a device or
 * pipe, or a read-only file (unless `force`). Says nothing when Deno may not read its folder.
 */
export function checkOutputPath(path: string, options: { force?: boolean } = {}): Promise<void> {
  if (canRead(path)) existing(path, !!options.force);
  return Promise.resolve();
}

/**
 * Writes several files as one commit (see the module documentation). Missing folders are created;
 * an existing folder or read-only file at an output path is refused before anything is written;
 * a replaced file keeps its mode. Errors are {@linkcode FileError}s naming the file.
 *
 * @example Write a module and its glue together
 * ```ts
 * import assert from "node:assert";
 * import { writeOutputs } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * const result = await writeOutputs([
 *   { path: `${dir}/dist/app.wasm`, contents: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) },
 *   { path: `${dir}/dist/app.js`, contents: "export {};\n" },
 * ]);
 * assert.deepStrictEqual(result.createdFolders, [`${dir}/dist`]);
 * assert.deepStrictEqual([...Deno.readDirSync(`${dir}/dist`)].map((e) => e.name).sort(), [
 *   "app.js",
 *   "app.wasm",
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeOutputs(
  files: readonly OutputFile[],
  options: WriteOutputsOptions = {},
): Promise<WriteOutputsResult> {
  const result: WriteOutputsResult = { atomic: true, createdFolders: [], staleRemoved: [] };
  const seen = new Set<string>();
  const seenDirs = new Set<string>();
  for (const f of files) {
    const abs = resolve(f.path);
    if (seen.has(abs)) throw new Error(`writeOutputs: "${f.path}" is given twice`);
    seen.add(abs);
  }
  for (const file of files) {
    const dir = dirname(resolve(file.path));
    if (options.createFolders === false || seenDirs.has(dir)) continue;
    seenDirs.add(dir);
    try {
      makeFolder(dir, result.createdFolders);
    } catch (e) {
      // No write permission at all: say so about the file the user asked for.
      const denied = e instanceof FileError && e.cause instanceof Deno.errors.NotCapable;
      throw denied ? fileError("write", file.path, e.cause) : e;
    }
  }
  result.atomic = files.every((f) => canRead(dirname(resolve(f.path))));
  const written: string[] = [];
  listen();
  try {
    if (!result.atomic) {
      // No read permission on a folder, so no rename: write in place, undo on failure.
      for (const f of files) {
        const mine = () => {
          pending.add(f.path);
          written.push(f.path);
        };
        try {
          const open = { create: true, truncate: true, mode: f.mode };
          await writeChunks(f.path, f.contents, open, mine);
        } catch (e) {
          throw fileError("write", f.path, e);
        }
      }
      return result;
    }
    const plans: {
      file: OutputFile;
      /** The file replaced: the path itself, or the file a symbolic link there points to. */
      target: string;
      tmp: string;
      mode?: number;
      isNew: boolean;
    }[] = [];
    for (const file of files) {
      const before = existing(file.path, !!options.force);
      const target = linkTarget(file.path);
      plans.push({
        file,
        target,
        tmp: tempName(target),
        mode: file.mode ?? before,
        isNew: !before,
      });
    }
    for (const { target } of plans) {
      if (options.cleanStale !== false) removeStale(target, result.staleRemoved);
    }
    for (const plan of plans) {
      try {
        const mine = () => void pending.add(plan.tmp);
        await writeChunks(plan.tmp, plan.file.contents, { createNew: true }, mine);
        if (plan.mode !== undefined && Deno.build.os !== "windows") {
          Deno.chmodSync(plan.tmp, plan.mode);
        }
      } catch (e) {
        throw fileError("write", plan.file.path, e);
      }
    }
    // (A signal that came while the files were written stopped the run at the last `stat`.)
    for (const plan of plans) {
      try {
        Deno.renameSync(plan.tmp, plan.target);
      } catch (e) {
        throw fileError("write", plan.file.path, e);
      }
      pending.delete(plan.tmp);
      if (plan.isNew) written.push(plan.target);
    }
    written.length = 0;
    return result;
  } catch (e) {
    for (const path of [...pending, ...written]) removeQuietly(path);
    for (const dir of result.createdFolders.toReversed()) removeQuietly(dir);
    result.createdFolders.length = 0;
    throw e;
  } finally {
    if (result.atomic) written.length = 0;
    pending.clear();
    unlisten();
  }
}

/**
 * Writes `data` to `path` atomically: into a temporary file beside it, then renamed over it (a
 * single-file {@linkcode writeOutputs} that neither creates folders nor looks for leftovers).
 *
 * @example Write a file
 * ```ts
 * import { writeFileAtomic } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/out.bin`, new Uint8Array([1, 2, 3]));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | Uint8Array[],
  mode?: number,
): Promise<void> {
  await writeOutputs([{ path, contents: data, mode }], {
    createFolders: false,
    cleanStale: false,
    force: true,
  });
}

/** True when both paths name the same existing file. */
export function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const sa = Deno.statSync(a);
    const sb = Deno.statSync(b);
    return Promise.resolve(sa.dev === sb.dev && sa.ino === sb.ino && sa.ino !== null);
  } catch {
    return Promise.resolve(false);
  }
}
