/**
 * Assembler errors: where (file, archive member, record, line:column) and a code frame.
 * @module
 */

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
