/**
 * The rewrite behind the `dce` pass: drops what {@linkcode reach} found unreachable and renumbers
 * every index that refers to functions, globals, tables and element segments, section by
 * section on the zero-copy model. Bodies are rewritten in one streaming pass from the references
 * reachability already found; a body whose references keep their indices is copied as bytes.
 * @module
 */
import { ByteReader, ByteWriter } from "../wasm/bytes.ts";
import { decodeInstructions, Imm } from "../wasm/instructions.ts";
import { type Section, SectionId, type WasmModule } from "../wasm/module.ts";
import type { Reachability } from "../wasm/reach.ts";
import {
  type ElementSegment,
  limits,
  readCode,
  readData,
  readExports,
  readFunctions,
  readImports,
  readTables,
  readTags,
  skipConstExpr,
  valType,
} from "../wasm/types.ts";
import { UsageError } from "../errors.ts";
import { Out } from "./_out.ts";

/** Old index → new index, or -1 when removed. */
type IndexMap = Int32Array;

/** Counts of what the rewrite removed. */
export interface DceCounts {
  /** Functions removed, imports included. */
  functionsRemoved: number;
  /** Imports removed (functions and globals). */
  importsRemoved: number;
  /** Globals removed, imports included. */
  globalsRemoved: number;
  /** Tables removed. */
  tablesRemoved: number;
  /** Element segments removed. */
  elementSegmentsRemoved: number;
  /** Types nothing uses any more (modules without typed references only). */
  typesRemoved: number;
  /** Functions kept in a table that no call can reach: their bodies became `unreachable`. */
  bodiesEmptied: number;
}

/** A vector section's payload: the count of entries, then the entries written to `w`. */
function vector(count: number, w: ByteWriter): Uint8Array {
  return new ByteWriter().u32(count).bytes(w.finish()).finish();
}

/**
 * Rewrites a vector section in place: `entry` reads entry `i` from `rd` and writes it to `w` when
 * it is kept (then returns true).
 */
function keepEntries(
  m: WasmModule,
  section: Section,
  entry: (rd: ByteReader, w: ByteWriter, i: number) => boolean,
): void {
  const rd = m.reader(section);
  const n = rd.u32();
  const w = new ByteWriter();
  let kept = 0;
  for (let i = 0; i < n; i++) if (entry(rd, w, i)) kept++;
  m.setPayload(section, vector(kept, w));
}

function lebLength(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function makeMap(live: Uint8Array): { map: IndexMap; removed: number } {
  const map = new Int32Array(live.length);
  let next = 0;
  for (let i = 0; i < live.length; i++) map[i] = live[i] ? next++ : -1;
  return { map, removed: live.length - next };
}

/** The maps of one rewrite. */
interface Maps {
  func: IndexMap;
  global: IndexMap;
  table: IndexMap;
  elem: IndexMap;
  /** Absent when types are kept as they are. */
  type?: IndexMap;
}

function mapped(maps: Maps, kind: number, value: number): number {
  const map = kind === Imm.func
    ? maps.func
    : kind === Imm.global
    ? maps.global
    : kind === Imm.table
    ? maps.table
    : kind === Imm.elem
    ? maps.elem
    : kind === Imm.type
    ? maps.type
    : undefined;
  if (!map) return value;
  const v = map[value];
  if (v === undefined || v < 0) {
    throw new RangeError(`dce: a live reference to removed ${kind} index ${value}`);
  }
  return v;
}

/**
 * The length of `bytes` once the given references (flat kind/value/at/length quadruples,
 * positions relative to `bytes`) are renumbered and re-encoded minimally, or -1 when no reference
 * changes (the bytes stay as they are).
 */
function patchedLength(bytes: Uint8Array, refs: ArrayLike<number>, maps: Maps): number {
  let changed = false;
  let length = bytes.length;
  for (let i = 0; i < refs.length; i += 4) {
    const v = mapped(maps, refs[i], refs[i + 1]);
    const n = isBlockType(bytes, refs[i], refs[i + 2]) ? lebLength(v * 2) : lebLength(v);
    if (v !== refs[i + 1] || n !== refs[i + 3]) changed = true;
    length += n - refs[i + 3];
  }
  return changed ? length : -1;
}

/** Writes `bytes` to `out` with the references renumbered (see {@linkcode patchedLength}). */
function writePatched(bytes: Uint8Array, refs: ArrayLike<number>, maps: Maps, out: Out): void {
  let pos = 0;
  for (let i = 0; i < refs.length; i += 4) {
    const at = refs[i + 2];
    out.range(bytes, pos, at);
    const v = mapped(maps, refs[i], refs[i + 1]);
    if (isBlockType(bytes, refs[i], at)) s33(out, v);
    else out.u32(v);
    pos = at + refs[i + 3];
  }
  out.range(bytes, pos, bytes.length);
}

/**
 * True when the type index at `at` is a block type (an s33 right after its opcode). A GC
 * instruction's type index after a sub-opcode 2–6 also matches: its s33 form is a valid (at most
 * one byte longer) u32 of the same value.
 */
function isBlockType(bytes: Uint8Array, kind: number, at: number): boolean {
  if (kind !== Imm.type || at === 0) return false;
  const op = bytes[at - 1];
  return op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06 || op === 0x1f;
}

/** Writes a type index as a block type: a signed LEB (64 needs two bytes, not one). */
function s33(out: Out, v: number): void {
  while (v >= 0x40) {
    out.byte((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.byte(v);
}

/** A constant expression (with its `end`) renumbered. */
function patchExpr(expr: Uint8Array, maps: Maps): Uint8Array {
  const refs: number[] = [];
  decodeInstructions(expr, 0, expr.length, false, {
    immediate(kind, value, at, length) {
      if (kind === Imm.func || kind === Imm.global) refs.push(kind, value, at, length);
    },
  });
  const length = patchedLength(expr, refs, maps);
  if (length < 0) return expr;
  const out = new Out(length);
  writePatched(expr, refs, maps, out);
  return out.result();
}

/** Applies `reach`'s result to `m`. */
export function applyReachability(m: WasmModule, r: Reachability): DceCounts {
  const func = makeMap(r.functions);
  const global = makeMap(r.globals);
  const tables = readTables(m);
  if (tables.some((t) => t.init)) r.tables.fill(1); // tables with initializers: kept (GC)
  const table = makeMap(r.tables);
  const segs = r.segments;
  const declarativeLive = segs.map((s, i) =>
    s.mode === "declarative" && !r.elements[i] &&
    (s.functions ?? []).some((f) => r.functions[f])
  );
  const liveSegs = Uint8Array.from(segs, (_, i) => r.elements[i] || declarativeLive[i] ? 1 : 0);
  const elem = makeMap(liveSegs);
  const types = unusedTypes(m, r);
  const maps: Maps = {
    func: func.map,
    global: global.map,
    table: table.map,
    elem: elem.map,
    type: types?.map,
  };
  const counts: DceCounts = {
    functionsRemoved: func.removed,
    importsRemoved: 0,
    globalsRemoved: global.removed,
    tablesRemoved: table.removed,
    elementSegmentsRemoved: elem.removed,
    bodiesEmptied: 0,
    typesRemoved: types?.removed ?? 0,
  };
  const identity = func.removed === 0 && global.removed === 0 && table.removed === 0 &&
    elem.removed === 0;
  const typeMap = types?.map;

  // Types.
  if (types) {
    const w = new ByteWriter().u32(types.entries.length - types.removed);
    types.entries.forEach((e, i) => {
      if (types.map[i] >= 0) w.bytes(e);
    });
    m.setSection(SectionId.type, w.finish());
  }

  // Imports.
  const importSection = m.section(SectionId.import);
  if (importSection && (func.removed || global.removed || typeMap)) {
    const rd = m.reader(importSection);
    const w = new ByteWriter();
    let kept = 0;
    let f = 0, g = 0, t = 0;
    const count = rd.u32();
    for (let i = 0; i < count; i++) {
      const start = rd.pos;
      rd.name();
      rd.name();
      const kind = rd.u8();
      const head = rd.pos;
      let live = true;
      let typeIndex = -1;
      if (kind === 0) {
        typeIndex = rd.u32();
        live = r.functions[f++] === 1;
      } else if (kind === 1) {
        valType(rd);
        limits(rd);
        live = r.tables[t++] === 1;
      } else if (kind === 2) limits(rd);
      else if (kind === 3) {
        valType(rd);
        rd.u8();
        live = r.globals[g++] === 1;
      } else if (kind === 4) {
        rd.u8();
        typeIndex = rd.u32();
      } else rd.fail(`invalid import kind ${kind}`, start);
      if (live && typeMap && typeIndex >= 0) {
        // names and kind as they were, then the tag attribute and the renumbered type
        w.bytes(rd.bytes.subarray(start, head));
        if (kind === 4) w.byte(0);
        w.u32(typeMap[typeIndex]);
        kept++;
      } else if (live) {
        w.bytes(rd.bytes.subarray(start, rd.pos));
        kept++;
      } else counts.importsRemoved++;
    }
    m.setPayload(importSection, vector(kept, w));
  }

  // Function section.
  const fnSection = m.section(SectionId.function);
  if (fnSection && (func.removed || typeMap)) {
    const rd = m.reader(fnSection);
    const n = rd.u32();
    const kept: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = rd.u32();
      if (r.functions[r.importedFunctions + i]) kept.push(typeMap ? typeMap[t] : t);
    }
    const w = new ByteWriter().u32(kept.length);
    for (const t of kept) w.u32(t);
    m.setPayload(fnSection, w.finish());
  }

  // Tags.
  const tagSection = m.section(SectionId.tag);
  if (tagSection && typeMap) {
    const tags = readTags(m);
    const w = new ByteWriter().u32(tags.length);
    for (const t of tags) w.byte(0).u32(typeMap[t]);
    m.setPayload(tagSection, w.finish());
  }

  // Table section: drop dead defined tables.
  const tableSection = m.section(SectionId.table);
  if (tableSection && table.removed) {
    keepEntries(m, tableSection, (rd, w, i) => {
      const start = rd.pos;
      valType(rd);
      limits(rd);
      if (!r.tables[r.importedTables + i]) return false;
      w.bytes(rd.bytes.subarray(start, rd.pos));
      return true;
    });
  }

  // Globals.
  const globalSection = m.section(SectionId.global);
  if (globalSection && !identity) {
    keepEntries(m, globalSection, (rd, w, i) => {
      const start = rd.pos;
      valType(rd);
      rd.u8();
      const exprStart = rd.pos;
      skipConstExpr(rd);
      if (!r.globals[r.importedGlobals + i]) return false;
      w.bytes(rd.bytes.subarray(start, exprStart));
      w.bytes(patchExpr(rd.bytes.subarray(exprStart, rd.pos), maps));
      return true;
    });
  }

  // Exports.
  const exportSection = m.section(SectionId.export);
  if (exportSection && !identity) {
    const w = new ByteWriter();
    let kept = 0;
    for (const e of readExports(m)) {
      const map = e.kind === "func"
        ? maps.func
        : e.kind === "global"
        ? maps.global
        : e.kind === "table"
        ? maps.table
        : undefined;
      const index = map ? map[e.index] : e.index;
      if (index < 0) continue;
      kept++;
      w.name(e.name).byte(["func", "table", "memory", "global", "tag"].indexOf(e.kind)).u32(index);
    }
    m.setPayload(exportSection, vector(kept, w));
  }

  // Start.
  const startSection = m.section(SectionId.start);
  if (startSection && func.removed) {
    const old = m.reader(startSection).u32();
    m.setPayload(startSection, new ByteWriter().u32(maps.func[old]).finish());
  }

  // Elements.
  const elemSection = m.section(SectionId.element);
  if (elemSection && !identity) {
    const w = new ByteWriter();
    let kept = 0;
    segs.forEach((s, i) => {
      if (!liveSegs[i]) return;
      kept++;
      encodeSegment(w, s, maps, !r.elements[i]);
    });
    m.setPayload(elemSection, vector(kept, w));
  }

  // Code.
  const codeSection = m.section(SectionId.code);
  if (codeSection) {
    const bodies = readCode(m);
    const out = new Out(codeSection.payload.length + 16);
    out.u32(bodies.length - (func.removed - countRemovedImports(r)));
    let changed = func.removed > 0;
    for (let i = 0; i < bodies.length; i++) {
      if (!r.functions[r.importedFunctions + i]) continue;
      const given = r.bodies?.get(i)?.body;
      if (given) changed = true;
      const body = given ?? bodies[i].body;
      if (!r.called[r.importedFunctions + i]) {
        // Kept only because a live table holds it, but no call can reach it: it traps instead.
        if (!isTrapBody(body)) {
          counts.bodiesEmptied++;
          changed = true;
        }
        out.u32(TRAP_BODY.length);
        out.copy(TRAP_BODY);
        continue;
      }
      // The new size first, then the body written once with its references renumbered.
      const refs = r.refs[i]!;
      const length = patchedLength(body, refs, maps);
      if (length >= 0) {
        changed = true;
        out.u32(length);
        writePatched(body, refs, maps, out);
      } else {
        out.u32(body.length);
        out.copy(body);
      }
    }
    if (changed) m.setPayload(codeSection, out.result());
  }

  // Data: offsets may read globals.
  const dataSection = m.section(SectionId.data);
  if (dataSection && global.removed) {
    const w = new ByteWriter();
    const data = readData(m);
    for (const d of data) {
      if (d.mode === "passive") w.byte(1);
      else if (d.memory === 0) w.byte(0);
      else w.byte(2).u32(d.memory);
      if (d.offset) w.bytes(patchExpr(withEnd(d.offset), maps));
      w.sized(d.data);
    }
    m.setPayload(dataSection, new ByteWriter().u32(data.length).bytes(w.finish()).finish());
  }

  // Names.
  const names = m.section("name");
  if (names && (!identity || typeMap)) m.setPayload(names, renumberNames(m.reader(names), maps));
  return counts;
}

/** A body that traps at once: no locals, `unreachable`, `end`. */
const TRAP_BODY = new Uint8Array([0x00, 0x00, 0x0b]);

function isTrapBody(body: Uint8Array): boolean {
  return body.length === 3 && body[0] === 0 && body[1] === 0 && body[2] === 0x0b;
}

function countRemovedImports(r: Reachability): number {
  let n = 0;
  for (let f = 0; f < r.importedFunctions; f++) if (!r.functions[f]) n++;
  return n;
}

function withEnd(expr: Uint8Array): Uint8Array {
  const out = new Uint8Array(expr.length + 1);
  out.set(expr);
  out[expr.length] = 0x0b;
  return out;
}

const REF_TYPES: Record<string, number> = { funcref: 0x70, externref: 0x6f };

/** Encodes a live element segment; `declarativeOnly` keeps only live functions. */
function encodeSegment(w: ByteWriter, s: ElementSegment, maps: Maps, declarativeOnly: boolean) {
  const table = maps.table[s.table] ?? s.table;
  const offset = s.offset ? patchExpr(withEnd(s.offset), maps) : undefined;
  if (s.functions) {
    const funcs = (declarativeOnly ? s.functions.filter((f) => maps.func[f] >= 0) : s.functions)
      .map((f) => mapped(maps, Imm.func, f));
    if (s.mode === "active" && table === 0) w.byte(0).bytes(offset!);
    else if (s.mode === "active") w.byte(2).u32(table).bytes(offset!).byte(0);
    else w.byte(s.mode === "passive" ? 1 : 3).byte(0);
    w.u32(funcs.length);
    for (const f of funcs) w.u32(f);
    return;
  }
  const type = REF_TYPES[s.type];
  if (type === undefined) {
    throw new UsageError(
      `dce cannot rewrite an element segment of type ${s.type} (a GC module); run dce on ` +
        `modules without typed-reference element segments`,
    );
  }
  const exprs = s.expressions!.map((e) => patchExpr(withEnd(e), maps));
  if (s.mode === "active" && table === 0 && type === 0x70) w.byte(4).bytes(offset!);
  else if (s.mode === "active") w.byte(6).u32(table).bytes(offset!).byte(type);
  else w.byte(s.mode === "passive" ? 5 : 7).byte(type);
  w.u32(exprs.length);
  for (const e of exprs) w.bytes(e);
}

/** The name section with function, global, table and element-segment indices renumbered. */
function renumberNames(rd: ByteReader, maps: Maps): Uint8Array {
  const w = new Out(rd.bytes.length);
  const inner = new Out(1 << 12);
  while (!rd.done) {
    const id = rd.u8();
    const size = rd.u32();
    const sub = new ByteReader(rd.take(size));
    const map = id === 1 || id === 2 || id === 3
      ? maps.func
      : id === 4
      ? maps.type
      : id === 5
      ? maps.table
      : id === 7
      ? maps.global
      : id === 8
      ? maps.elem
      : undefined;
    w.u32(id); // the id is one byte, below 0x80
    if (!map) {
      w.u32(sub.bytes.length);
      w.copy(sub.bytes);
      continue;
    }
    inner.len = 0;
    let kept = 0;
    const count = sub.u32();
    for (let i = 0; i < count; i++) {
      const index = sub.u32();
      const start = sub.pos;
      if (id === 2 || id === 3) {
        const n = sub.u32();
        for (let k = 0; k < n; k++) {
          sub.u32();
          sub.skip(sub.u32());
        }
      } else sub.skip(sub.u32());
      const to = map[index];
      if (to === undefined || to < 0) continue;
      kept++;
      inner.u32(to);
      inner.range(sub.bytes, start, sub.pos);
    }
    const head = new Out(8);
    head.u32(kept);
    w.u32(head.len + inner.len);
    w.copy(head.result());
    w.copy(inner.result());
  }
  return w.result();
}

/**
 * The types nothing uses once dead code is gone, in modules without typed references (where type
 * indices appear only in the type, import, function and tag sections, block types and
 * `call_indirect`). Undefined when none can go.
 */
function unusedTypes(
  m: WasmModule,
  r: Reachability,
): { map: IndexMap; removed: number; entries: Uint8Array[] } | undefined {
  const section = m.section(SectionId.type);
  if (!section || r.typedReferences) return undefined;
  const rd = m.reader(section);
  const entries: Uint8Array[] = [];
  const count = rd.u32();
  for (let i = 0; i < count; i++) {
    const start = rd.pos;
    if (rd.u8() !== 0x60) return undefined; // GC types, rec groups
    for (let k = 0; k < 2; k++) {
      const n = rd.u32();
      for (let j = 0; j < n; j++) {
        const b = rd.bytes[rd.pos];
        if (b === 0x63 || b === 0x64) return undefined; // typed references
        valType(rd);
      }
    }
    entries.push(rd.bytes.subarray(start, rd.pos));
  }
  const used = new Uint8Array(count);
  const mark = (t: number) => {
    if (t < count) used[t] = 1;
  };
  let f = 0;
  for (const imp of readImports(m)) {
    if (imp.kind === "func" && r.functions[f++]) mark(imp.type);
    else if (imp.kind === "tag") mark(imp.type);
  }
  readFunctions(m).forEach((t, i) => {
    if (r.functions[r.importedFunctions + i]) mark(t);
  });
  readTags(m).forEach(mark);
  for (const refs of r.refs) {
    if (!refs) continue;
    for (let i = 0; i < refs.length; i += 4) if (refs[i] === Imm.type) mark(refs[i + 1]);
  }
  const { map, removed } = makeMap(used);
  return removed ? { map, removed, entries } : undefined;
}
