/**
 * What every command shares: reading inputs with one-line errors, the exit code a command asks
 * for, and printing warnings.
 * @module
 */
import { FileError, fileError, WasmParseError } from "../errors.ts";

/** The exit code a command asks for without failing (`run` returns the module's). */
export const status = { exitCode: 0 };

/**
 * Reads an input file; a missing file, a folder, a FIFO or device (`/dev/zero`), a symlink loop or
 * a denied permission becomes one {@linkcode FileError} line naming the file.
 */
export async function readInput<T>(path: string, read: (path: string) => Promise<T>): Promise<T> {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw fileError("read", path, e);
  }
  if (info.isDirectory) {
    throw new FileError("read", path, `Cannot read "${path}": it is a directory; pass a file`);
  }
  if (!info.isFile) {
    throw new FileError(
      "read",
      path,
      `Cannot read "${path}": not a regular file (a pipe, socket or device); save it to a file first`,
    );
  }
  try {
    return await read(path);
  } catch (e) {
    throw fileError("read", path, e);
  }
}

/** Re-labels a parse error with the file it came from. */
export function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WasmParseError) e.file = file;
    throw e;
  }
}

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Prints `warning: ...` lines on stderr. */
export function printWarnings(lines: Iterable<string>): void {
  for (const line of lines) console.error(`warning: ${line}`);
}

/** Help text for the end of a command's `--help`: a few real examples. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}
