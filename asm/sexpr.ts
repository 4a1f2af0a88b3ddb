/**
 * A small WAT reader: tokens (atoms, strings, ids), comments and parentheses, into a tree whose
 * nodes keep their source offsets. It understands just enough of the text format to find the
 * rwat annotations and the instructions of function bodies; wabt.js does the real parsing.
 * @module
 */

/** A node of the tree: an atom (keyword, number, `$id`), a string, or a parenthesized list. */
export type Node = Atom | Str | List;

/** A keyword, number, id or other bare token. */
export interface Atom {
  type: "atom";
  /** The token as written. */
  text: string;
  start: number;
  end: number;
}

/** A string literal, decoded. */
export interface Str {
  type: "string";
  /** The decoded bytes, as UTF-8 text when they are valid UTF-8. */
  value: string;
  start: number;
  end: number;
}

/** A list: `(head ...)`, or an annotation `(@name ...)` (then `annotation` is the name). */
export interface List {
  type: "list";
  items: Node[];
  /** The name of an annotation `(@name ...)`; the items are its contents. */
  annotation?: string;
  start: number;
  end: number;
}

/** A syntax error at an offset (and length) of the text. */
export class SexprError extends SyntaxError {
  constructor(message: string, readonly offset: number, readonly length = 1) {
    super(message);
    this.name = "SexprError";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function isSpace(c: string): boolean {
  return c === " " || c === "\n" || c === "\t" || c === "\r";
}

/**
 * Reads every top-level node of `text`.
 *
 * @example Read a folded instruction
 * ```ts
 * import assert from "node:assert";
 * import { readSexprs } from "./sexpr.ts";
 * const [list] = readSexprs("(call $f (@reloc)) ;; done");
 * assert.ok(list.type === "list" && list.items.length === 3);
 * ```
 */
export function readSexprs(text: string): Node[] {
  const stack: List[] = [];
  const top: Node[] = [];
  const push = (n: Node) => (stack.length ? stack[stack.length - 1].items : top).push(n);
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
    } else if (c === ";" && text[i + 1] === ";") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === "(" && text[i + 1] === ";") {
      i = skipBlockComment(text, i);
    } else if (c === "(") {
      const list: List = { type: "list", items: [], start: i, end: -1 };
      i++;
      if (text[i] === "@") {
        let j = i + 1;
        while (j < n && isIdChar(text[j])) j++;
        if (j === i + 1) throw new SexprError("An annotation needs a name after `(@`", i - 1, 2);
        list.annotation = text.slice(i + 1, j);
        i = j;
      }
      push(list);
      stack.push(list);
    } else if (c === ")") {
      const list = stack.pop();
      if (!list) {
        throw new SexprError(
          "Unbalanced `)`: it closes more parentheses than were opened",
          i,
        );
      }
      list.end = ++i;
    } else if (c === '"') {
      const { value, end } = readString(text, i);
      push({ type: "string", value, start: i, end });
      i = end;
    } else if (c === "$" && text[i + 1] === '"') {
      const { value, end } = readString(text, i + 1);
      push({ type: "atom", text: `$${value}`, start: i, end });
      i = end;
    } else {
      const start = i;
      while (i < n && !isSpace(text[i]) && text[i] !== "(" && text[i] !== ")" && text[i] !== '"') {
        if (text[i] === ";" && text[i + 1] === ";") break;
        i++;
      }
      push({ type: "atom", text: text.slice(start, i), start, end: i });
    }
  }
  if (stack.length) {
    const open = stack[stack.length - 1];
    throw new SexprError("Unclosed `(`: this parenthesis is never closed", open.start);
  }
  return top;
}

const ID_CHARS = new Set(
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&'*+-./:<=>?@\\^_`|~",
);

function isIdChar(c: string): boolean {
  return ID_CHARS.has(c);
}

function skipBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === "(" && text[i + 1] === ";") {
      depth++;
      i += 2;
    } else if (text[i] === ";" && text[i + 1] === ")") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  throw new SexprError("Unclosed block comment `(;`: add `;)`", start, 2);
}

function readString(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  // Fast path: no escapes, the string is the text between the quotes.
  while (i < text.length && text[i] !== '"' && text[i] !== "\\" && text[i] !== "\n") i++;
  if (text[i] === '"') return { value: text.slice(start + 1, i), end: i + 1 };
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const run = (from: number, to: number) => {
    if (to > from) { for (const b of enc.encode(text.slice(from, to))) bytes.push(b); }
  };
  run(start + 1, i);
  let from = i;
  for (;;) {
    if (i >= text.length || text[i] === "\n") {
      throw new SexprError('Unclosed string: add the closing `"`', start);
    }
    const c = text[i];
    if (c === '"') break;
    if (c !== "\\") {
      i++;
      continue;
    }
    run(from, i);
    const e = text[i + 1];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, "'": 39, "\\": 92 };
    if (Object.hasOwn(simple, e)) {
      bytes.push(simple[e]);
      i += 2;
    } else if (e === "u" && text[i + 2] === "{") {
      const close = text.indexOf("}", i);
      const cp = parseInt(text.slice(i + 3, close), 16);
      if (close < 0 || !Number.isFinite(cp) || cp > 0x10ffff) {
        throw new SexprError("Invalid `\\u{...}` escape in a string", i, 2);
      }
      for (const b of enc.encode(String.fromCodePoint(cp))) bytes.push(b);
      i = close + 1;
    } else if (/^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      throw new SexprError(`Invalid escape \`\\${e ?? ""}\` in a string`, i, 2);
    }
    from = i;
  }
  run(from, i);
  let value: string;
  try {
    value = utf8.decode(new Uint8Array(bytes));
  } catch {
    value = String.fromCharCode(...bytes);
  }
  return { value, end: i + 1 };
}

/** The keyword heading a list, if its first item is an atom. */
export function headOf(list: List): string | undefined {
  const first = list.items[0];
  return !list.annotation && first?.type === "atom" ? first.text : undefined;
}

/** Copies `text` with the spans replaced by spaces (newlines kept, so positions stay put). */
export function blankSpans(text: string, spans: { start: number; end: number }[]): string {
  if (!spans.length) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = "";
  let pos = 0;
  for (const { start, end } of sorted) {
    if (start < pos) continue;
    const span = text.slice(start, end);
    out += text.slice(pos, start) +
      (span.includes("\n") ? span.replace(/[^\n]/g, " ") : " ".repeat(span.length));
    pos = end;
  }
  return out + text.slice(pos);
}
