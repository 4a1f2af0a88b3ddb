/**
 * Every error linkpass raises for a user's mistake or a run that failed on its input.
 *
 * One base class, {@linkcode LinkpassError}, carries what an entry point prints: a one-line
 * `message`, optional `details` lines printed before it (code frames, the linker's own output),
 * and the process `exitCode` (2 for command-line usage, 1 for a failed run). Anything else that
 * reaches an entry point is a bug and is rethrown with its stack.
 *
 * The binary layer (`wasm/`) imports nothing of ours, so its {@linkcode WasmParseError} extends
 * `SyntaxError`; it is re-exported here and {@linkcode describeError} treats it as a user error.
 *
 * @example Print any linkpass error the way the CLI does
 * ```ts
 * import assert from "node:assert";
 * import { describeError, UsageError } from "./errors.ts";
 * const described = describeError(new UsageError("Unknown pass \"pnic\"; run `linkpass passes`", 2));
 * assert.deepStrictEqual(described, {
 *   details: [],
 *   message: "Unknown pass \"pnic\"; run `linkpass passes`",
 *   exitCode: 2,
 * });
 * assert.strictEqual(describeError(new TypeError("a bug")), undefined);
 * ```
 * @module
 */
import { NotWasmError, WasmParseError } from "./wasm/errors.ts";

export { NotWasmError, WasmParseError };

/** Options of {@linkcode LinkpassError}. */
export interface LinkpassErrorOptions {
  /** Process exit code: 2 for command-line usage, 1 (default) for a failed run. */
  exitCode?: number;
  /** Lines an entry point prints before the `error:` line (code frames, a tool's output). */
  details?: string[];
  /** The underlying error. */
  cause?: unknown;
}

/** Base of every error meant for the user: a one-line message, detail lines and an exit code. */
export class LinkpassError extends Error {
  /** Process exit code: 2 for command-line usage, 1 for a failed run. */
  readonly exitCode: number;
  /** Lines printed before the one-line message (code frames, a tool's own messages). */
  readonly details: string[];
  /** `message` is one line: what is wrong, and what to do. */
  constructor(message: string, options: LinkpassErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LinkpassError";
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details ?? [];
  }
}

/** A mistake of the user (bad option value, bad file, unsupported input), as opposed to a bug. */
export class UsageError extends LinkpassError {
  /** A one-line message for the user; `exitCode` 2 for usage mistakes, 1 for failed runs. */
  constructor(message: string, exitCode = 1, details: string[] = []) {
    super(message, { exitCode, details });
    this.name = "UsageError";
  }
}

/**
 * A pass failed. When the cause is a user-facing error the message is the cause's, labelled with
 * the pass; otherwise the pass has a bug (`internal` is true) and the message says so.
 */
export class PassError extends LinkpassError {
  /** Name of the pass that failed. */
  readonly pass: string;
  /** True when the cause is not a user-facing error: a bug in the pass, not bad input. */
  readonly internal: boolean;
  /**
   * Wraps `cause` (kept as `cause`) with the pass name in the message. A user's own pass
   * (`userPass`) is never called internal: whatever it throws is its one-line message.
   */
  constructor(pass: string, cause: unknown, options: { userPass?: boolean } = {}) {
    const inner = describeError(cause);
    const text = cause instanceof Error ? cause.message : String(cause);
    const userFacing = inner !== undefined || cause instanceof RangeError || !!options.userPass;
    super(
      userFacing
        ? `pass "${pass}" failed: ${inner?.message ?? text.split("\n")[0]}`
        : `internal error in pass "${pass}" (a bug, not your input; set LINKPASS_DEBUG=1 for the stack): ${text}`,
      { cause, exitCode: inner?.exitCode === 2 ? 2 : 1, details: inner?.details ?? [] },
    );
    this.name = "PassError";
    this.pass = pass;
    this.internal = !userFacing;
  }
}

/** The module failed validation after the pipeline (or after the named pass). */
export class ValidationError extends LinkpassError {
  /** The pass after which the module was invalid, with `--validate-each`. */
  readonly pass?: string;
  /** `pass` names the pass after which validation failed, when known. */
  constructor(message: string, pass?: string) {
    super(
      pass
        ? `the module is invalid after pass "${pass}": ${message}`
        : `the output module is invalid: ${message}`,
    );
    this.name = "ValidationError";
    this.pass = pass;
  }
}

/** One problem found while building JS glue. */
export interface GlueProblem {
  /** One line naming the record(s) involved. */
  message: string;
  /** Snippet lines around a syntax error. */
  frame?: string;
}

/**
 * The records cannot make glue: conflicting texts, missing embeds, syntax errors. Every problem
 * is listed; the message carries all of them with their code frames.
 */
export class GlueError extends LinkpassError {
  /** Each problem on its own. */
  readonly problems: GlueProblem[];
  /** Makes the error from its problems (at least one). */
  constructor(problems: GlueProblem[]) {
    super(problems.map((p) => p.frame ? `${p.message}\n${p.frame}` : p.message).join("\n"));
    this.name = "GlueError";
    this.problems = problems;
  }
}

/** The real linker failed; `stderr` is what it printed (shown before the error line). */
export class LinkerFailedError extends LinkpassError {
  /** The linker's diagnostics. */
  readonly stderr: string;
  /** `linker` failed with exit `code`, printing `stderr`. */
  constructor(linker: string, code: number, stderr: string) {
    const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
    const first = lines.find((l) => /error/i.test(l)) ?? lines[0];
    super(`the linker "${linker}" failed with exit code ${code}${first ? `: ${first}` : ""}`, {
      exitCode: code || 1,
      details: [stderr.trimEnd()].filter(Boolean),
    });
    this.name = "LinkerFailedError";
    this.stderr = stderr;
  }
}

/** Where an assembler error is located: the input and the record inside it. */
export interface AsmLocation {
  /** Input file (object, archive or .wat). */
  file?: string;
  /** Archive member holding the record. */
  member?: string;
  /** Number of the `js_bindgen.wat` record (1-based) inside its section. */
  record?: number;
}

/** `Cannot assemble js_bindgen.wat record 2 of "lib.rlib(a.o)"` and shorter forms. */
export function describeLocation(where: AsmLocation): string {
  const input = where.file === undefined
    ? undefined
    : where.member === undefined
    ? `"${where.file}"`
    : `"${where.file}(${where.member})"`;
  if (where.record !== undefined) {
    return `Cannot assemble js_bindgen.wat record ${where.record}${input ? ` of ${input}` : ""}`;
  }
  return `Cannot assemble ${input ?? "WAT"}`;
}

/**
 * A WAT fragment that does not assemble: a syntax or validation error, or a misuse of the rwat
 * annotations. `message` is one line naming the input and `line:column`; `frame` (also the only
 * detail line) shows the source around it.
 *
 * @example Show an assembler error the way the CLI does
 * ```ts
 * import assert from "node:assert";
 * import { AsmError } from "./errors.ts";
 * import { assembleFragment } from "./asm/mod.ts";
 * await assert.rejects(assembleFragment("(func i32.ad)", { file: "lib.o", record: 1 }), (e) => {
 *   assert.ok(e instanceof AsmError);
 *   assert.strictEqual(e.line, 1);
 *   assert.strictEqual(e.column, 7);
 *   assert.match(e.message, /record 1/);
 *   assert.match(e.frame, /\^/);
 *   return true;
 * });
 * ```
 */
export class AsmError extends LinkpassError {
  /** Input file, when the caller said. */
  file?: string;
  /** Archive member, when the caller said. */
  member?: string;
  /** Record number (1-based), when the caller said. */
  record?: number;
  /** Line (1-based) inside the fragment or module text. */
  line: number;
  /** Column (1-based, in characters) inside the fragment or module text. */
  column: number;
  /** The problem without the location. */
  detail: string;
  /** Code frame: the lines around the error with a `^` marker, joined with newlines. */
  frame: string;

  /** Makes the error; the message is built from `where` and `detail`. */
  constructor(
    detail: string,
    where: AsmLocation & { line: number; column: number; frame: string },
  ) {
    super(`${describeLocation(where)} at ${where.line}:${where.column}: ${detail}`, {
      details: [where.frame],
    });
    this.name = "AsmError";
    this.file = where.file;
    this.member = where.member;
    this.record = where.record;
    this.line = where.line;
    this.column = where.column;
    this.detail = detail;
    this.frame = where.frame;
  }
}

/** Several fragments failed to assemble: every error, each with its code frame. */
export class FragmentErrors extends LinkpassError {
  /** The assembler errors. */
  readonly errors: { message: string; frame: string }[];
  /** Wraps the errors of every fragment that failed. */
  constructor(errors: { message: string; frame: string }[]) {
    super(
      errors.length === 1
        ? `Cannot assemble embedded WAT: ${errors[0].message}`
        : `Cannot assemble embedded WAT: ${errors.length} fragments have errors (listed above)`,
      {
        details: errors.length === 1
          ? [errors[0].frame]
          : errors.flatMap((err) => [`error: ${err.message}`, err.frame, ""]),
      },
    );
    this.name = "FragmentErrors";
    this.errors = errors;
  }
}

/** Raised when the assembler's text walk and its binary disagree: a bug, not the input. */
export class AssemblerBug extends Error {
  /** Makes the error from the description of the disagreement. */
  constructor(message: string) {
    super(`linkpass asm bug: ${message}; please report it with the WAT that triggered it`);
    this.name = "AssemblerBug";
  }
}

/** What linkpass was doing with a file when the file system (or Deno's permissions) said no. */
export type FileAction = "read" | "write" | "create the folder" | "replace" | "remove";

/**
 * A file-system error as one line naming the file, what is wrong and what to do. Made from any
 * `Deno.errors.*` (NotFound, NotCapable, PermissionDenied, IsADirectory, FilesystemLoop, ...) by
 * {@linkcode fileError}; `cause` is the original error.
 *
 * @example A denied permission names the flag to add
 * ```ts
 * import assert from "node:assert";
 * import { FileError, fileError } from "./errors.ts";
 * const denied = new Deno.errors.NotCapable(
 *   'Requires write access to "dist/app.wasm", run again with the --allow-write flag',
 * );
 * const e = fileError("write", "dist/app.wasm", denied);
 * assert.ok(e instanceof FileError);
 * assert.strictEqual(
 *   e.message,
 *   'Cannot write "dist/app.wasm": Deno denied write access; run with --allow-write=dist/app.wasm (or -A)',
 * );
 * ```
 */
export class FileError extends LinkpassError {
  /** The file or folder. */
  readonly path: string;
  /** What linkpass tried to do with it. */
  readonly action: FileAction;
  /** `message` says what is wrong and what to do; `cause` is the Deno error. */
  constructor(action: FileAction, path: string, message: string, cause?: unknown) {
    super(message, { cause, exitCode: 1 });
    this.name = "FileError";
    this.path = path;
    this.action = action;
  }
}

/** The permission a Deno `NotCapable` error asks for: `{ kind: "read", path }`. */
export function deniedPermission(e: Error): { kind: string; path?: string } | undefined {
  const m = /Requires (\w+) access(?: to "?([^",]*)"?)?/.exec(e.message);
  if (!m) return undefined;
  return { kind: m[1], path: m[2] || undefined };
}

/**
 * True for any error of the `Deno.errors` family (file system, permissions, network...), and for
 * the plain `Error`s Deno raises for other OS errors (`No space left on device (os error 28)`).
 */
export function isDenoError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  if (Object.values(Deno.errors).some((kind) => e instanceof kind)) return true;
  return e.constructor === Error && /\(os error \d+\)/.test(e.message);
}

/**
 * Turns a file-system or permission error into a {@linkcode FileError}; anything else is returned
 * as it is. `action` and `path` say what linkpass was doing.
 */
export function fileError(action: FileAction, path: string, e: unknown): unknown {
  if (e instanceof LinkpassError || !isDenoError(e)) return e;
  const at = `Cannot ${action} "${path}"`;
  const say = (what: string) => new FileError(action, path, `${at}: ${what}`, e);
  const errors = Deno.errors;
  if (e instanceof errors.NotCapable) {
    const asked = deniedPermission(e);
    const kind = asked?.kind ?? (action === "read" ? "read" : "write");
    const target = asked?.path ?? path;
    return say(`Deno denied ${kind} access; run with --allow-${kind}=${target} (or -A)`);
  }
  if (e instanceof errors.PermissionDenied) {
    return say(
      "the operating system denied access (not a Deno permission); check the owner and mode of the file and its folder",
    );
  }
  if (e instanceof errors.NotFound) {
    return say(
      action === "read"
        ? "no such file; check the path"
        : "a folder on its path does not exist or was removed; check the path",
    );
  }
  if (e instanceof errors.IsADirectory) {
    return say(
      action === "read" ? "it is a directory; pass a file" : "it is a directory; name a file",
    );
  }
  if (e instanceof errors.NotADirectory) {
    return say("a part of the path is a file, not a folder; check the path");
  }
  if (e instanceof errors.FilesystemLoop) {
    return say("symbolic links loop back on themselves; point the path at a real file");
  }
  if (e instanceof errors.AlreadyExists) {
    return say("it already exists; remove it or pick another name");
  }
  if (e instanceof errors.InvalidData || e instanceof errors.UnexpectedEof) {
    return say(`${e.message.split("\n")[0]}; the file is truncated or not what it seems`);
  }
  const text = e.message.split("\n")[0];
  if (/No space left|os error 28/i.test(text)) return say("the disk is full; free some space");
  if (/Read-only file system|os error 30/i.test(text)) {
    return say("the file system is read-only; write somewhere else");
  }
  if (/Illegal seek|os error 29/i.test(text)) {
    return say("not a regular file (a pipe?); pass a file");
  }
  return say(`${text}`);
}

/** What an entry point prints for an error: detail lines, then `error: message`. */
export interface DescribedError {
  /** Lines printed before the error line. */
  details: string[];
  /** The one-line message (without `error: `). */
  message: string;
  /** The process exit code. */
  exitCode: number;
}

/**
 * A `Deno.errors.*` that escaped a command, as one line: a denied permission names the flag to
 * add; anything else keeps Deno's own one-line message (which names the path).
 */
function describeDenoError(e: Error): DescribedError {
  if (e instanceof Deno.errors.NotCapable) {
    const asked = deniedPermission(e);
    if (asked) {
      const where = asked.path ? ` to "${asked.path}"` : "";
      const flag = `--allow-${asked.kind}${asked.path ? `=${asked.path}` : ""}`;
      return {
        details: [],
        message: `Deno denied ${asked.kind} access${where}; run with ${flag} (or -A)`,
        exitCode: 1,
      };
    }
  }
  return { details: [], message: `${e.name}: ${e.message.split("\n")[0]}`, exitCode: 1 };
}

/**
 * Describes a user-facing error (and a pass's internal error, which says it is a bug) and any
 * `Deno.errors.*` (a denied permission names the flag to add), or returns undefined for any other
 * error: a bug of linkpass, to rethrow with its stack.
 */
export function describeError(e: unknown): DescribedError | undefined {
  if (e instanceof LinkpassError) {
    return { details: [...e.details], message: e.message, exitCode: e.exitCode };
  }
  if (e instanceof WasmParseError) {
    return {
      details: [],
      message: e.file === undefined ? e.message : `Cannot read "${e.file}": ${e.message}`,
      exitCode: 1,
    };
  }
  if (isDenoError(e)) return describeDenoError(e);
  return undefined;
}

/**
 * binaryen.js failed on a module (it throws raw C++ exception objects): the one-line message it
 * gave, and what linkpass was doing.
 */
export class BinaryenError extends LinkpassError {
  /** What linkpass asked binaryen to do: `read`, `emit`, `optimize`. */
  readonly operation: string;
  /** `operation` failed with binaryen's `message`. */
  constructor(operation: string, message: string, cause?: unknown) {
    super(`binaryen could not ${operation} the module: ${message}`, { cause });
    this.name = "BinaryenError";
    this.operation = operation;
  }
}

/**
 * The output would need a WebAssembly feature the input does not use, so runtimes that run the
 * input could reject it.
 */
export class FeatureError extends LinkpassError {
  /** The features the output needs beyond the input's. */
  readonly features: string[];
  /** `features` are needed (each with its reason in `reasons`); `by` names the pass(es). */
  constructor(features: string[], reasons: string[], by?: string) {
    super(
      `${by ? `${by} made` : "the output has"} code that needs the WebAssembly feature(s) ` +
        `${features.map((f) => `"${f}"`).join(", ")} (${reasons.join("; ")}), which the input ` +
        `does not use; linkpass never adds features, so runtimes that run the input run the ` +
        `output: drop that pass, or enable the feature in the input's build`,
    );
    this.name = "FeatureError";
    this.features = features;
  }
}
