/**
 * Text rewrites before wabt reads the text, with a map back to the user's offsets.
 *
 * js-bindgen's fragments are written for the `wast` crate, which accepts flat instructions
 * inside a folded one: `(i64.store offset=8 local.get $out local.get $hi)`. The text format
 * (and wabt) only take folded operands, so each such flat instruction gets its own parentheses:
 * `(i64.store offset=8 (local.get $out) (local.get $hi))`, which means the same instruction
 * sequence.
 * @module
 */
import { isInstruction } from "./rwat.ts";
import { type Atom, headOf, type List, type Node } from "./sexpr.ts";

/** Text with insertions, and the map from its offsets to those of the text before. */
export interface Rewritten {
  text: string;
  toBefore(offset: number): number;
}

/** Inserts strings at offsets of `text` (offsets of the original text). */
export function insertText(text: string, inserts: { at: number; text: string }[]): Rewritten {
  const sorted = [...inserts].sort((a, b) => a.at - b.at);
  let out = "";
  let pos = 0;
  const marks: { newStart: number; at: number; length: number }[] = [];
  for (const { at, text: s } of sorted) {
    out += text.slice(pos, at);
    marks.push({ newStart: out.length, at, length: s.length });
    out += s;
    pos = at;
  }
  out += text.slice(pos);
  return {
    text: out,
    toBefore(offset: number): number {
      let shift = 0;
      for (const m of marks) {
        if (offset < m.newStart) break;
        if (offset < m.newStart + m.length) return m.at;
        shift += m.length;
      }
      return offset - shift;
    },
  };
}

const BLOCKS = new Set(["block", "loop", "if", "then", "else", "try_table", "try", "do", "catch"]);
const STRUCTURE = new Set([...BLOCKS, "end", "catch_all", "delegate"]);
const OPERAND_LISTS = new Set(["type", "param", "result"]);
const HEADER_LISTS = new Set([...OPERAND_LISTS, "local", "export", "import"]);

/** The insertions that give flat instructions inside folded ones their own parentheses. */
export function foldFlatOperands(module: List): { at: number; text: string }[] {
  const inserts: { at: number; text: string }[] = [];
  for (const field of module.items) {
    if (field.type === "list" && headOf(field) === "func") body(field.items.slice(1), inserts);
  }
  return inserts;
}

function body(items: Node[], inserts: { at: number; text: string }[]): void {
  for (const item of items) {
    if (item.type !== "list" || item.annotation !== undefined) continue;
    const head = headOf(item);
    if (head === undefined || !isInstruction(head) || HEADER_LISTS.has(head)) continue;
    if (BLOCKS.has(head)) body(item.items.slice(1), inserts);
    else folded(item, inserts);
  }
}

function folded(list: List, inserts: { at: number; text: string }[]): void {
  const rest = list.items.slice(1);
  // The folded instruction's own immediates come first; a flat instruction starts the operands.
  const first = rest.findIndex((n) => n.type === "atom" && isInstruction(n.text));
  body(rest, inserts);
  if (first < 0) return;
  const flat = rest.slice(first);
  if (flat.some((n) => n.type === "atom" && STRUCTURE.has(n.text))) return; // wabt will say why
  let open: Atom | undefined;
  let last: Node | undefined;
  const close = () => {
    if (open) inserts.push({ at: open.start, text: "(" }, { at: last!.end, text: ")" });
    open = undefined;
  };
  for (const n of flat) {
    if (n.type === "atom" && isInstruction(n.text)) {
      close();
      open = n;
      last = n;
    } else if (
      open &&
      (n.type !== "list" || n.annotation !== undefined || OPERAND_LISTS.has(headOf(n) ?? ""))
    ) {
      last = n;
    } else {
      close();
    }
  }
  close();
}
