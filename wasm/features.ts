/**
 * Which WebAssembly features a module uses: declared in its `target_features` section, and
 * detected from what the module actually contains (types, imports, segments, every instruction).
 * Tools that rewrite a module read and write it with exactly these features, so the output never
 * needs a feature the input's runtimes may lack.
 * @module
 */
import { readTargetFeatures } from "./custom.ts";
import { decodeInstructions, Imm } from "./instructions.ts";
import { SectionId, type WasmModule } from "./module.ts";
import {
  type Limits,
  readCode,
  readData,
  readDataCount,
  readElements,
  readExports,
  readGlobals,
  readImports,
  readMemories,
  readTables,
  readTags,
  readTypes,
  type ValType,
} from "./types.ts";

/** Feature names as `target_features` and LLVM spell them. */
export const FEATURES = [
  "atomics",
  "bulk-memory",
  "bulk-memory-opt",
  "call-indirect-overlong",
  "custom-page-sizes",
  "exception-handling",
  "extended-const",
  "fp16",
  "gc",
  "memory64",
  "multimemory",
  "multivalue",
  "mutable-globals",
  "nontrapping-fptoint",
  "reference-types",
  "relaxed-simd",
  "sign-ext",
  "simd128",
  "tail-call",
  "wide-arithmetic",
] as const;

/** A feature name. */
export type Feature = typeof FEATURES[number];

/** What {@linkcode moduleFeatures} found. */
export interface ModuleFeatures {
  /** Features the module's contents need (found by reading it). */
  detected: Set<Feature>;
  /** Features its `target_features` section lists as used (`+`) or required (`=`). */
  declared?: Set<Feature>;
  /** What a rewrite may use: the declared and the detected features together. */
  allowed: Set<Feature>;
  /** For each detected feature, the first thing that needs it (for messages). */
  why: Map<Feature, string>;
}

/**
 * Finds the features a module uses.
 *
 * @example A module with a multi-value function type
 * ```ts
 * import assert from "node:assert";
 * import { WasmModule } from "./module.ts";
 * import { moduleFeatures } from "./features.ts";
 * // (type (func (result i32 i32)))
 * const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 0, 2, 0x7f, 0x7f]);
 * const { detected } = moduleFeatures(WasmModule.parse(bytes));
 * assert.deepStrictEqual([...detected], ["multivalue"]);
 * ```
 */
export function moduleFeatures(m: WasmModule): ModuleFeatures {
  const detected = new Set<Feature>();
  const why = new Map<Feature, string>();
  const need = (f: Feature, reason: string) => {
    if (detected.has(f)) return;
    detected.add(f);
    why.set(f, reason);
  };
  const valType = (t: ValType, where: string) => {
    for (const f of valTypeFeatures(t)) need(f, `${t} in ${where}`);
  };
  const limits = (l: Limits, where: string) => {
    if (l.is64) need("memory64", `a 64-bit ${where}`);
    if (l.shared) need("atomics", `a shared ${where}`);
    if (l.pageSizeLog2 !== undefined) need("custom-page-sizes", `a custom page size (${where})`);
  };

  const types = readTypes(m);
  types.forEach((t, i) => {
    if (t.kind !== "func") return need("gc", `a ${t.kind} type (type ${i})`);
    t.params.forEach((p) => valType(p, `type ${i}`));
    t.results.forEach((p) => valType(p, `type ${i}`));
    if (t.results.length > 1) need("multivalue", `type ${i} returns ${t.results.length} values`);
  });
  const typeSection = m.section(SectionId.type);
  if (typeSection && hasGcTypeSyntax(typeSection.payload)) need("gc", "recursive or sub types");

  let memories = 0;
  let tables = 0;
  for (const imp of readImports(m)) {
    const where = `the import "${imp.module}"/"${imp.name}"`;
    if (imp.kind === "global") {
      valType(imp.global.type, where);
      if (imp.global.mutable) need("mutable-globals", `the mutable global ${where}`);
    } else if (imp.kind === "memory") {
      memories++;
      limits(imp.memory, `memory (${where})`);
    } else if (imp.kind === "table") {
      tables++;
      if (imp.table.element !== "funcref") valType(imp.table.element, where);
      limits(imp.table.limits, `table (${where})`);
    } else if (imp.kind === "tag") {
      need("exception-handling", `the tag import "${imp.module}"/"${imp.name}"`);
    }
  }
  for (const mem of readMemories(m)) {
    memories++;
    limits(mem, "memory");
  }
  if (memories > 1) need("multimemory", `${memories} memories`);
  for (const t of readTables(m)) {
    tables++;
    if (t.element !== "funcref") valType(t.element, "a table");
    limits(t.limits, "table");
    if (t.init) need("gc", "a table with an initializer");
  }
  if (tables > 1) need("reference-types", `${tables} tables`);
  const globals = readGlobals(m);
  globals.forEach((g, i) => {
    valType(g.type, `global ${i}`);
    constFeatures(g.init, need, `the initializer of global ${i}`);
  });
  const mutableGlobals = new Set<number>();
  const importedGlobals = readImports(m).filter((i) => i.kind === "global").length;
  globals.forEach((g, i) => g.mutable && mutableGlobals.add(importedGlobals + i));
  for (const e of readExports(m)) {
    if (e.kind === "global" && mutableGlobals.has(e.index)) {
      need("mutable-globals", `the export "${e.name}" of a mutable global`);
    }
  }
  if (readTags(m).length) need("exception-handling", "a tag section");
  readElements(m).forEach((e, i) => {
    if (e.mode === "passive") need("bulk-memory", `passive element segment ${i}`);
    if (e.mode === "declarative") need("reference-types", `declarative element segment ${i}`);
    if (e.table !== 0) need("reference-types", `element segment ${i} on table ${e.table}`);
    if (e.type !== "funcref") valType(e.type, `element segment ${i}`);
    if (e.offset) constFeatures(e.offset, need, `the offset of element segment ${i}`);
    for (const x of e.expressions ?? []) constFeatures(x, need, `element segment ${i}`);
  });
  if (readDataCount(m) !== undefined) need("bulk-memory", "a data count section");
  dataFeatures(m, need);
  codeFeatures(m, need, detected);
  const declared = declaredFeatures(m);
  const allowed = new Set<Feature>([...detected, ...(declared ?? [])]);
  // Subsets binaryen tracks separately: bulk memory includes memory.copy/fill, reference types
  // include the table index of call_indirect.
  if (allowed.has("bulk-memory")) allowed.add("bulk-memory-opt");
  if (allowed.has("reference-types")) allowed.add("call-indirect-overlong");
  return { detected, declared, allowed, why };
}

/** The features of `target_features` marked used (`+`) or required (`=`), if it exists. */
export function declaredFeatures(m: WasmModule): Set<Feature> | undefined {
  const list = readTargetFeatures(m);
  if (!list) return undefined;
  const known = new Set<string>(FEATURES);
  const out = new Set<Feature>();
  for (const { prefix, name } of list) {
    const canonical = name === "multi-memory" ? "multimemory" : name;
    if (prefix !== "-" && known.has(canonical)) out.add(canonical as Feature);
  }
  return out;
}

/** The features a value type needs. */
export function valTypeFeatures(t: ValType): Feature[] {
  switch (t) {
    case "i32":
    case "i64":
    case "f32":
    case "f64":
      return [];
    case "v128":
      return ["simd128"];
    case "funcref":
    case "externref":
      return ["reference-types"];
    case "exnref":
    case "nullexnref":
      return ["exception-handling", "reference-types"];
    default:
      return ["gc", "reference-types"];
  }
}

/** True when the type section has rec groups, sub types or non-function types. */
function hasGcTypeSyntax(p: Uint8Array): boolean {
  let pos = 0;
  const u32 = () => {
    let v = 0, shift = 0, b;
    do {
      b = p[pos++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80 && pos < p.length);
    return v;
  };
  const valType = () => {
    const b = p[pos++];
    if (b === 0x63 || b === 0x64) u32(); // heap type: one s33, skipped like a u32
  };
  const count = u32();
  for (let i = 0; i < count && pos < p.length; i++) {
    if (p[pos++] !== 0x60) return true;
    for (let n = u32(); n > 0; n--) valType();
    for (let n = u32(); n > 0; n--) valType();
  }
  return false;
}

type Need = (f: Feature, why: string) => void;

function constFeatures(expr: Uint8Array, need: Need, where: string): void {
  decodeInstructions(expr, 0, expr.length, false, {
    instruction(op, sub) {
      if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) {
        need("extended-const", `arithmetic in ${where}`);
      } else if (op === 0xd0 || op === 0xd2) need("reference-types", `a reference in ${where}`);
      else if (op === 0xfb) need("gc", `GC instruction 0xfb ${sub} in ${where}`);
      else if (op === 0xfd) need("simd128", `v128.const in ${where}`);
    },
    typeByte: (b) => typeByteFeatures(b, need, where),
  });
}

function typeByteFeatures(b: number, need: Need, where: string): void {
  if (b === 0x7b) need("simd128", `v128 in ${where}`);
  else if (b === 0x70 || b === 0x6f) need("reference-types", `a reference type in ${where}`);
  else if (b === 0x69 || b === 0x74) need("exception-handling", `exnref in ${where}`);
  else if (b === 0x63 || b === 0x64 || (b >= 0x6a && b <= 0x73)) {
    need("gc", `a GC or typed reference type in ${where}`);
  }
}

function dataFeatures(m: WasmModule, need: Need): void {
  readData(m).forEach((d, i) => {
    if (d.mode === "passive") need("bulk-memory", `passive data segment ${i}`);
    if (d.memory !== 0) need("multimemory", `data segment ${i} in memory ${d.memory}`);
    if (d.offset) constFeatures(d.offset, need, `the offset of data segment ${i}`);
  });
}

function codeFeatures(m: WasmModule, need: Need, detected: Set<Feature>): void {
  const code = m.section(SectionId.code);
  if (!code) return;
  const types = readTypes(m);
  const bodies = readCode(m);
  let body = 0;
  const where = () => `function body ${body}`;
  // Reasons are built only for the first use of a feature: this runs on every instruction.
  const visitor = {
    typeByte(b: number) {
      if (b !== 0x7f && b !== 0x7e && b !== 0x7d && b !== 0x7c) typeByteFeatures(b, need, where());
    },
    immediate(kind: number, value: number, _at: number, _len: number, op: number) {
      if (kind === Imm.table && value !== 0) {
        need("reference-types", `table ${value} in ${where()}`);
      } else if (kind === Imm.memory && value !== 0) {
        need("multimemory", `memory ${value} in ${where()}`);
      } else if (kind === Imm.type && (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06)) {
        const t = types[value];
        if (t?.kind === "func" && (t.params.length > 0 || t.results.length > 1)) {
          need("multivalue", `a multi-value block in ${where()}`);
        }
      }
    },
    instruction(op: number, sub: number) {
      if (op < 0xc0 && sub < 0 && !EXTENDED_OPS[op]) return;
      const f = opcodeFeature(op, sub);
      if (f && !detected.has(f)) need(f, `opcode ${opName(op, sub)} in ${where()}`);
    },
  };
  for (let i = 0; i < bodies.length; i++) {
    body = i;
    decodeInstructions(bodies[i].body, 0, bodies[i].body.length, true, visitor, bodies[i].offset);
  }
}

/** Opcodes below 0xc0 that need a feature (exception handling, tail calls, typed refs). */
const EXTENDED_OPS: Record<number, true> = Object.fromEntries(
  [0x06, 0x07, 0x08, 0x09, 0x0a, 0x12, 0x13, 0x14, 0x15, 0x18, 0x19, 0x1c, 0x1f, 0x25, 0x26].map((
    op,
  ) => [op, true]),
);

function opName(op: number, sub: number): string {
  return sub < 0 ? `0x${op.toString(16)}` : `0x${op.toString(16)} ${sub}`;
}

/** The feature an opcode needs beyond the MVP, if any. */
export function opcodeFeature(op: number, sub: number): Feature | undefined {
  if (op >= 0xc0 && op <= 0xc4) return "sign-ext";
  switch (op) {
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0a:
    case 0x18:
    case 0x19:
    case 0x1f:
      return "exception-handling";
    case 0x12:
    case 0x13:
    case 0x15:
      return "tail-call";
    case 0x14:
    case 0xd3:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xfb:
      return "gc";
    case 0x1c:
    case 0x25:
    case 0x26:
    case 0xd0:
    case 0xd1:
    case 0xd2:
      return "reference-types";
    case 0xfe:
      return "atomics";
    case 0xfd:
      if (sub >= 0x100 && sub <= 0x113) return "relaxed-simd";
      if (sub >= 0x120) return "fp16";
      return "simd128";
    case 0xfc:
      if (sub <= 7) return "nontrapping-fptoint";
      if (sub === 10 || sub === 11) return "bulk-memory-opt";
      if (sub <= 13 && sub !== 12) return "bulk-memory";
      if (sub === 12) return "bulk-memory";
      if (sub <= 17) return "reference-types";
      return "wide-arithmetic";
  }
  return undefined;
}
