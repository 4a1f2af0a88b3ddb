/**
 * The rwat annotations: `(@rwat)` on the module header, `(@sym)` on functions, tables and
 * globals, `(@reloc)` after instructions whose immediate is an index. This file finds them in
 * the tree, checks where they stand, and lists for each function body the index-taking
 * instructions in the order the binary encodes them.
 * @module
 */
import { SymbolFlags } from "../wasm/linking.ts";
import { type Atom, headOf, type List, type Node, SexprError } from "./sexpr.ts";

/** The index spaces a symbol can live in. */
export type ItemKind = "func" | "table" | "global" | "memory" | "tag";

/** A `(@sym ...)`: explicit name (when given) and flags. */
export interface SymSpec {
  name?: string;
  flags: number;
  node: List;
}

/** A function, table, global, memory or tag of the module (imported or defined). */
export interface Item {
  kind: ItemKind;
  /** Index in its space (imports first, as the text format requires). */
  index: number;
  /** The `$id` without `$`. */
  id?: string;
  sym?: SymSpec;
  import?: { module: string; name: string };
  /** The list that declares the item (for error positions). */
  node: List;
}

/** An instruction of a body that takes a function, table or global index. */
export interface TextInstr {
  name: string;
  reloc: boolean;
  node: Atom;
}

/** What the annotations say about a module. */
export interface RwatInfo {
  items: Item[];
  /** Per defined function, in order: its index-taking instructions in binary order. */
  bodies: TextInstr[][];
  /** Spans of the rwat annotations, to blank before wabt reads the text. */
  annotations: { start: number; end: number }[];
  /** The `(@rwat)` header annotation, when present. */
  header?: List;
}

/** Instructions with an index immediate that a relocation must patch. */
export const INDEXED = new Set([
  "call",
  "return_call",
  "ref.func",
  "call_indirect",
  "return_call_indirect",
  "table.get",
  "table.set",
  "table.grow",
  "table.size",
  "table.fill",
  "table.copy",
  "table.init",
  "global.get",
  "global.set",
]);

/** Bare words that are immediates, not instructions (heap types, shapes, float literals). */
const IMMEDIATE_WORDS = new Set([
  "func",
  "extern",
  "any",
  "eq",
  "i31",
  "struct",
  "array",
  "none",
  "nofunc",
  "noextern",
  "exn",
  "noexn",
  "i8x16",
  "i16x8",
  "i32x4",
  "i64x2",
  "f32x4",
  "f64x2",
  "inf",
  "nan",
]);

const SKIPPED_LISTS = new Set(["type", "param", "result", "local", "export", "import"]);
const SYM_KINDS = new Set<string>(["func", "table", "global"]);
const SYM_FLAG_WORDS: Record<string, number> = {
  weak: SymbolFlags.weak,
  hidden: SymbolFlags.hidden,
  retain: SymbolFlags.noStrip,
  export: SymbolFlags.exported,
};

const NO_TAGS =
  "Exception tags are not supported in rwat objects yet: `throw` and `catch` take tag indices that need relocations linkpass does not write";

const fail = (message: string, node: { start: number; end: number }): never => {
  throw new SexprError(message, node.start, node.end - node.start);
};

/** Analyses the `(module ...)` list. `requireHeader`: `(@rwat)` must follow `module`. */
export function analyseModule(module: List, requireHeader: boolean): RwatInfo {
  const info: RwatInfo = { items: [], bodies: [], annotations: [] };
  const counts: Record<ItemKind, number> = { func: 0, table: 0, global: 0, memory: 0, tag: 0 };
  const fields = module.items.slice(1);
  let k = 0;
  if (fields[k]?.type === "atom" && (fields[k] as Atom).text.startsWith("$")) k++;
  const maybeHeader = fields[k];
  if (maybeHeader?.type === "list" && maybeHeader.annotation === "rwat") {
    if (maybeHeader.items.length) fail("(@rwat) takes no arguments", maybeHeader);
    info.header = maybeHeader;
    info.annotations.push(maybeHeader);
    k++;
  } else if (requireHeader) {
    fail("The module has no (@rwat) header: write `(module (@rwat) ...)`", module.items[0]);
  }
  for (const field of fields.slice(k)) {
    if (field.type !== "list") continue; // wabt reports stray tokens
    if (field.annotation !== undefined) {
      if (field.annotation === "sym" || field.annotation === "reloc") {
        fail(`(@${field.annotation}) is not allowed here: ${placement(field.annotation)}`, field);
      }
      if (field.annotation === "rwat") fail("(@rwat) belongs right after `(module`", field);
      continue;
    }
    const head = headOf(field);
    if (head === "import") {
      const desc = field.items[3];
      const mod = field.items[1];
      const name = field.items[2];
      if (desc?.type !== "list" || mod?.type !== "string" || name?.type !== "string") continue;
      const kind = headOf(desc);
      if (!kind || !Object.hasOwn(counts, kind)) continue;
      if (kind === "tag") fail(NO_TAGS, desc);
      const item = declare(info, counts, kind as ItemKind, desc);
      item.import = { module: mod.value, name: name.value };
      continue;
    }
    if (head === "tag") fail(NO_TAGS, field);
    if (head && Object.hasOwn(counts, head)) {
      const inlineImport = field.items.find((n) => n.type === "list" && headOf(n) === "import") as
        | List
        | undefined;
      const item = declare(info, counts, head as ItemKind, field);
      if (inlineImport) {
        const [, mod, name] = inlineImport.items;
        if (mod?.type === "string" && name?.type === "string") {
          item.import = { module: mod.value, name: name.value };
        }
      }
      for (const n of field.items) {
        if (n.type !== "list") continue;
        const h = headOf(n);
        if (head === "table" && h === "elem") {
          fail("Inline element segments are not supported in rwat objects", n);
        }
        if (head === "memory" && h === "data") {
          fail("Data segments are not supported in rwat objects", n);
        }
      }
      if (head === "func" && !item.import) info.bodies.push(walkBody(field, item, info));
      if ((head === "global" || head === "table") && !item.import) checkInitializer(field);
      continue;
    }
    if (head === "data") {
      fail("Data segments are not supported in rwat objects: keep data in Rust statics", field);
    }
    if (head === "start") {
      fail("A start function is not supported in rwat objects: the linker owns `start`", field);
    }
    if (head === "elem" && !isDeclarative(field)) {
      fail(
        "Only declarative element segments `(elem declare func ...)` are supported in rwat objects",
        field,
      );
    }
    checkNoAnnotations(field);
  }
  return info;
}

/** Initializers live outside the code section, where linkpass writes no relocations. */
function checkInitializer(list: List): void {
  for (const n of list.items) {
    if (n.type === "atom" && (n.text === "ref.func" || n.text === "global.get")) {
      fail(
        `\`${n.text}\` in an initializer is not supported in rwat objects: indices outside function bodies are not relocated; initialize in a function instead`,
        n,
      );
    }
    if (n.type === "list") checkInitializer(n);
  }
}

function isDeclarative(elem: List): boolean {
  return elem.items.some((n) => n.type === "atom" && n.text === "declare");
}

function placement(name: string): string {
  return name === "sym"
    ? "(@sym) goes right after the id of a function, table or global, e.g. `(func $f (@sym) ...)`"
    : "(@reloc) goes right after an instruction that takes a function, table or global index, e.g. `call $f (@reloc)`";
}

function checkNoAnnotations(list: List): void {
  for (const n of list.items) {
    if (n.type !== "list") continue;
    if (n.annotation === "sym" || n.annotation === "reloc") {
      fail(`(@${n.annotation}) is not allowed here: ${placement(n.annotation)}`, n);
    }
    checkNoAnnotations(n);
  }
}

function declare(
  info: RwatInfo,
  counts: Record<ItemKind, number>,
  kind: ItemKind,
  list: List,
): Item {
  const item: Item = { kind, index: counts[kind]++, node: list };
  info.items.push(item);
  const second = list.items[1];
  if (second?.type === "atom" && second.text.startsWith("$")) item.id = second.text.slice(1);
  for (const n of headerOf(kind, list)) {
    if (n.type !== "list" || n.annotation === undefined) continue;
    if (n.annotation === "reloc") fail(`(@reloc) is not allowed here: ${placement("reloc")}`, n);
    if (n.annotation !== "sym") continue;
    if (!SYM_KINDS.has(kind)) {
      fail(`(@sym) is not supported on a ${kind}: memories have no symbols`, n);
    }
    if (item.sym) fail("Duplicate (@sym): an item has at most one symbol", n);
    item.sym = parseSym(n);
    if (item.sym.name === undefined && item.id === undefined) {
      fail(
        'This (@sym) needs a name: give the item an id (`$name`) or write (@sym (name "..."))',
        n,
      );
    }
    info.annotations.push(n);
  }
  for (const n of list.items) {
    if (n.type === "list" && n.annotation === undefined && headOf(n) !== undefined) {
      if (kind !== "func" || SKIPPED_LISTS.has(headOf(n)!)) checkNoAnnotations(n);
    }
  }
  return item;
}

/** The items of a declaration before a function's body starts. */
function headerOf(kind: ItemKind, list: List): Node[] {
  const items = list.items.slice(1);
  if (kind !== "func") return items;
  const end = items.findIndex((n) =>
    n.type === "atom" ? !n.text.startsWith("$") : n.type === "list" && n.annotation === undefined &&
      !SKIPPED_LISTS.has(headOf(n) ?? "")
  );
  return end < 0 ? items : items.slice(0, end);
}

function parseSym(n: List): SymSpec {
  const sym: SymSpec = { flags: 0, node: n };
  for (const arg of n.items) {
    if (arg.type === "list" && headOf(arg) === "name") {
      const value = arg.items[1];
      if (value?.type !== "string" || arg.items.length !== 2) {
        fail('(name ...) takes one string: (@sym (name "js_sys.example"))', arg);
      }
      if (sym.name !== undefined) fail("Duplicate (name ...) in (@sym)", arg);
      sym.name = (value as { value: string }).value;
      if (!sym.name) fail("A symbol name cannot be empty", value as Node);
    } else if (arg.type === "atom" && Object.hasOwn(SYM_FLAG_WORDS, arg.text)) {
      sym.flags |= SYM_FLAG_WORDS[arg.text];
    } else {
      fail(
        `Unknown (@sym) argument: expected (name "..."), ${Object.keys(SYM_FLAG_WORDS).join(", ")}`,
        arg,
      );
    }
  }
  return sym;
}

/** True for a bare word that names an instruction (not an immediate such as `extern` or `nan`). */
export function isInstruction(text: string): boolean {
  const c = text.charCodeAt(0);
  return c >= 97 && c <= 122 && !text.includes("=") && !IMMEDIATE_WORDS.has(text) &&
    !text.startsWith("nan:");
}

/** Lists the index-taking instructions of a function body in binary order. */
function walkBody(func: List, item: Item, info: RwatInfo): TextInstr[] {
  const out: TextInstr[] = [];
  const attach = (target: TextInstr | undefined, ann: List) => {
    if (!target) {
      fail(`(@reloc) must follow an instruction: ${placement("reloc")}`, ann);
    }
    if (!INDEXED.has(target!.name)) {
      fail(
        `\`${
          target!.name
        }\` takes no function, table or global index, so (@reloc) has nothing to relocate; ${
          placement("reloc")
        }`,
        ann,
      );
    }
    if (ann.items.length) fail("(@reloc) takes no arguments", ann);
    if (target!.reloc) fail("Duplicate (@reloc) on one instruction", ann);
    target!.reloc = true;
    info.annotations.push(ann);
  };

  const seq = (items: Node[], last?: TextInstr) => {
    for (const item of items) {
      if (item.type === "atom") {
        if (!isInstruction(item.text)) continue;
        last = { name: item.text, reloc: false, node: item };
        if (INDEXED.has(item.text)) out.push(last);
      } else if (item.type === "list") {
        if (item.annotation !== undefined) {
          if (item.annotation === "reloc") attach(last, item);
          else if (item.annotation === "sym") {
            fail(`(@sym) is not allowed inside a function body: ${placement("sym")}`, item);
          }
          continue;
        }
        const head = headOf(item);
        if (head !== undefined && SKIPPED_LISTS.has(head)) {
          checkNoAnnotations(item);
          continue;
        }
        fold(item);
        last = undefined;
      }
    }
  };

  const fold = (list: List) => {
    const head = headOf(list);
    const rest = list.items.slice(1);
    if (head === undefined || !isInstruction(head)) return seq(list.items);
    const self: TextInstr = { name: head, reloc: false, node: list.items[0] as Atom };
    const part = (h: string) => rest.filter((n) => n.type === "list" && headOf(n) === h) as List[];
    if (head === "block" || head === "loop" || head === "try_table") return seq(rest, self);
    if (head === "if") {
      for (const n of rest) {
        if (n.type !== "list") continue;
        const h = headOf(n);
        if (n.annotation === "reloc") attach(self, n);
        else if (n.annotation === undefined && h !== "then" && h !== "else") {
          if (!SKIPPED_LISTS.has(h ?? "")) fold(n);
        }
      }
      for (const n of [...part("then"), ...part("else")]) seq(n.items.slice(1));
      return;
    }
    if (head === "try") {
      for (const h of ["do", "catch", "catch_all", "delegate"]) {
        for (const n of part(h)) seq(n.items.slice(1));
      }
      return;
    }
    for (const n of rest) {
      if (n.type !== "list") continue;
      if (n.annotation === "reloc") attach(self, n);
      else if (n.annotation === "sym") {
        fail(`(@sym) is not allowed inside a function body: ${placement("sym")}`, n);
      } else if (n.annotation === undefined) {
        const h = headOf(n);
        if (h !== undefined && SKIPPED_LISTS.has(h)) checkNoAnnotations(n);
        else fold(n);
      }
    }
    if (INDEXED.has(head)) out.push(self);
  };

  seq(func.items.slice(1).filter((n) => n !== item.sym?.node));
  for (const instr of out) {
    if (!instr.reloc) {
      fail(
        `\`${instr.name}\` needs (@reloc): indices in an object change when it is linked, so write \`${instr.name} ... (@reloc)\``,
        instr.node,
      );
    }
  }
  return out;
}
