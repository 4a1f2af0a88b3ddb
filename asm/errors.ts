/**
 * Assembler errors: where (file, archive member, record, line:column) and a code frame.
 * @module
 */

/** Where an error is located: the input and, inside the WAT text, line and column (1-based). */
export interface AsmLocation {
  /** Input file (object, archive or .wat). */
  file?: string;
  /** Archive member holding the record. */
  member?: string;
  /** Number of the `js_bindgen.wat` record (1-based) inside its section. */
  record?: number;
}

/**
 * A WAT fragment that does not assemble: a syntax or validation error, or a misuse of the rwat
 * annotations. `message` is one line naming the input and `line:column`; `frame` shows the
 * source around it.
 *
 * @example Show an error the way the CLI does
 * ```ts
 * import { AsmError, assembleFragment } from "./mod.ts";
 * try {
 *   await assembleFragment("(func i32.ad)", { file: "lib.o", record: 1 });
 * } catch (e) {
 *   if (!(e instanceof AsmError)) throw e;
 *   console.assert(e.line === 1 && e.column === 7);
 *   console.assert(e.message.includes("record 1") && e.frame.includes("^"));
 * }
 * ```
 */
export class AsmError extends Error {
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
    super(`${describeLocation(where)} at ${where.line}:${where.column}: ${detail}`);
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

/** Line (1-based) and column (1-based, UTF-16 units + 1) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * A code frame: two lines of context on each side, the error line marked with `>` and a caret
 * line under the `length` characters at `offset`.
 */
export function codeFrame(text: string, offset: number, length = 1): string {
  const lines = text.split("\n");
  const { line, column } = lineColumn(text, offset);
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let l = first; l <= last; l++) {
    const src = lines[l - 1].replace(/\t/g, " ").replace(/\r$/, "");
    out.push(`${l === line ? ">" : " "} ${String(l).padStart(width)} | ${src}`.trimEnd());
    if (l === line) {
      const carets = Math.max(1, Math.min(length, src.length - column + 1));
      out.push(`  ${" ".repeat(width)} | ${" ".repeat(column - 1)}${"^".repeat(carets)}`);
    }
  }
  return out.join("\n");
}

/** Byte column (1-based, UTF-8) on a line → offset in `text` (UTF-16 units). */
export function offsetOfByteColumn(text: string, line: number, byteColumn: number): number {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return text.length;
    start = nl + 1;
  }
  let bytes = 1;
  let i = start;
  while (bytes < byteColumn && i < text.length && text[i] !== "\n") {
    const cp = text.codePointAt(i)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i;
}
