/**
 * Where every byte of a module goes: the entries of the import, table, memory, global, element,
 * code and data sections located as byte spans (typed arrays, no object per entry), plus the
 * references their constant expressions make.
 * @module
 */
import { ByteReader } from "../wasm/bytes.ts";
import { type Section, SectionId, type WasmModule } from "../wasm/module.ts";
import { limits, skipConstExpr, valType } from "../wasm/types.ts";

/** Byte spans (file offsets) of the entries of one vector section. */
export interface Spans {
  start: Uint32Array;
  end: Uint32Array;
}

/** An import entry's kind code and, for functions and tags, its type index. */
export interface ImportLayout extends Spans {
  /** External kind code (0 func, 1 table, 2 memory, 3 global, 4 tag). */
  kind: Uint8Array;
  /** Type index of function imports (0 otherwise). */
  type: Uint32Array;
  /** `module.name` of each import. */
  names: string[];
}

/** An element segment: mode, table, and the functions it lists. */
export interface ElemLayout extends Spans {
  /** 0 active, 1 passive, 2 declarative. */
  mode: Uint8Array;
  table: Uint32Array;
  /** Functions of segment i: `funcs[funcStart[i] .. funcStart[i + 1])`. */
  funcStart: Uint32Array;
  funcs: Uint32Array;
  /** Globals the segment's expressions read (segment, global) pairs, flattened. */
  globalRefs: number[];
}

/** Spans of the entries of the standard sections that list items. */
export interface Layout {
  imports: ImportLayout;
  /** Function section: type index of each defined function. */
  funcTypes: Uint32Array;
  tables: Spans & { funcRefs: number[] };
  memories: Spans;
  /** Globals with the (global, function) and (global, global) references of their inits. */
  globals: Spans & { funcRefs: number[]; globalRefs: number[] };
  elems: ElemLayout;
  /** Function bodies: spans are payload-relative to the code section (body after its size). */
  code: { payload: Uint8Array; base: number; bodyStart: Uint32Array; bodyEnd: Uint32Array };
  /** Data segments: span of each entry; 1 for active segments. */
  data: Spans & { active: Uint8Array };
}

const EMPTY = new Uint32Array(0);

function reader(m: WasmModule, id: number): { r: ByteReader; s: Section } | undefined {
  const s = m.section(id);
  return s ? { r: m.reader(s), s } : undefined;
}

/** Calls `on(op, index)` for each `ref.func` (0xd2) and `global.get` (0x23) of a const expr. */
function constRefs(r: ByteReader, on: (op: number, index: number) => void): void {
  const start = r.pos;
  const end = skipConstExpr(r);
  const e = new ByteReader(r.bytes.subarray(start, end), r.base + start);
  // The expression is valid (skipConstExpr walked it); re-walk it for the indices.
  while (!e.done) {
    const op = e.u8();
    if (op === 0xd2 || op === 0x23) on(op, e.u32());
    else if (op === 0x41) e.s32();
    else if (op === 0x42) e.s64();
    else if (op === 0x43) e.take(4);
    else if (op === 0x44) e.take(8);
    else if (op === 0xd0) e.s64();
    else if (op === 0xfd) {
      e.u32();
      e.take(16);
    } else if (op === 0xfb) {
      const sub = e.u32();
      if (sub === 0 || sub === 1 || sub === 6 || sub === 7) e.u32();
      else if (sub === 8) {
        e.u32();
        e.u32();
      }
    }
  }
}

/** Locates every entry of the item-bearing sections of `m`. */
export function readLayout(m: WasmModule): Layout {
  return {
    imports: importLayout(m),
    funcTypes: functionTypes(m),
    tables: tableLayout(m),
    memories: simpleLayout(m, SectionId.memory, (r) => void limits(r)),
    globals: globalLayout(m),
    elems: elemLayout(m),
    code: codeLayout(m),
    data: dataLayout(m),
  };
}

function done(r: ByteReader, s: Section): void {
  if (!r.done) {
    r.fail(`${r.bytes.length - r.pos} unexpected bytes at the end of the ${s.name} section`);
  }
}

function importLayout(m: WasmModule): ImportLayout {
  const x = reader(m, SectionId.import);
  if (!x) {
    return { start: EMPTY, end: EMPTY, kind: new Uint8Array(0), type: EMPTY, names: [] };
  }
  const { r, s } = x;
  const n = r.count();
  const out: ImportLayout = {
    start: new Uint32Array(n),
    end: new Uint32Array(n),
    kind: new Uint8Array(n),
    type: new Uint32Array(n),
    names: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    out.start[i] = r.offset;
    const module = r.name("import module name");
    const name = r.name("import name");
    out.names[i] = `${module}.${name}`;
    const at = r.pos;
    const kind = out.kind[i] = r.u8();
    if (kind === 0) out.type[i] = r.u32();
    else if (kind === 1) {
      valType(r);
      limits(r);
    } else if (kind === 2) limits(r);
    else if (kind === 3) {
      valType(r);
      r.u8();
    } else if (kind === 4) {
      r.u8();
      out.type[i] = r.u32();
    } else r.fail(`invalid import kind ${kind}`, at);
    out.end[i] = r.offset;
  }
  done(r, s);
  return out;
}

function functionTypes(m: WasmModule): Uint32Array {
  const x = reader(m, SectionId.function);
  if (!x) return EMPTY;
  const n = x.r.count();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = x.r.u32();
  done(x.r, x.s);
  return out;
}

function simpleLayout(m: WasmModule, id: number, entry: (r: ByteReader, i: number) => void): Spans {
  const x = reader(m, id);
  if (!x) return { start: EMPTY, end: EMPTY };
  const n = x.r.count();
  const out = { start: new Uint32Array(n), end: new Uint32Array(n) };
  for (let i = 0; i < n; i++) {
    out.start[i] = x.r.offset;
    entry(x.r, i);
    out.end[i] = x.r.offset;
  }
  done(x.r, x.s);
  return out;
}

function tableLayout(m: WasmModule): Layout["tables"] {
  const funcRefs: number[] = [];
  const spans = simpleLayout(m, SectionId.table, (r, i) => {
    const init = r.bytes[r.pos] === 0x40 && r.bytes[r.pos + 1] === 0x00;
    if (init) r.pos += 2;
    valType(r);
    limits(r);
    if (init) constRefs(r, (op, f) => op === 0xd2 && funcRefs.push(i, f));
  });
  return { ...spans, funcRefs };
}

function globalLayout(m: WasmModule): Layout["globals"] {
  const funcRefs: number[] = [];
  const globalRefs: number[] = [];
  const spans = simpleLayout(m, SectionId.global, (r, i) => {
    valType(r);
    r.u8();
    constRefs(r, (op, x) => (op === 0xd2 ? funcRefs : globalRefs).push(i, x));
  });
  return { ...spans, funcRefs, globalRefs };
}

function elemLayout(m: WasmModule): ElemLayout {
  const funcs: number[] = [];
  const globalRefs: number[] = [];
  const modes: number[] = [];
  const tables: number[] = [];
  const funcStart: number[] = [];
  const spans = simpleLayout(m, SectionId.element, (r, i) => {
    const at = r.pos;
    const flags = r.u32();
    if (flags > 7) r.fail(`invalid element segment flags ${flags}`, at);
    const passiveOrDecl = (flags & 1) !== 0;
    const explicitTable = (flags & 2) !== 0;
    const exprs = (flags & 4) !== 0;
    modes.push(!passiveOrDecl ? 0 : explicitTable ? 2 : 1);
    let table = 0;
    if (!passiveOrDecl) {
      if (explicitTable) table = r.u32();
      skipConstExpr(r);
    }
    tables.push(table);
    if (passiveOrDecl || explicitTable) {
      if (exprs) valType(r);
      else r.u8();
    }
    funcStart.push(funcs.length);
    const n = r.count();
    for (let k = 0; k < n; k++) {
      if (exprs) {
        constRefs(r, (op, x) => op === 0xd2 ? funcs.push(x) : globalRefs.push(i, x));
      } else funcs.push(r.u32());
    }
  });
  funcStart.push(funcs.length);
  return {
    ...spans,
    mode: Uint8Array.from(modes),
    table: Uint32Array.from(tables),
    funcStart: Uint32Array.from(funcStart),
    funcs: Uint32Array.from(funcs),
    globalRefs,
  };
}

function codeLayout(m: WasmModule): Layout["code"] {
  const s = m.section(SectionId.code);
  if (!s) return { payload: new Uint8Array(0), base: 0, bodyStart: EMPTY, bodyEnd: EMPTY };
  const r = m.reader(s);
  const n = r.count();
  const bodyStart = new Uint32Array(n);
  const bodyEnd = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    if (size > r.bytes.length - r.pos) {
      r.fail(`function body ${i} (${size} bytes) runs past the end of the code section`);
    }
    bodyStart[i] = r.pos;
    r.pos += size;
    bodyEnd[i] = r.pos;
  }
  done(r, s);
  return { payload: s.payload, base: Math.max(0, s.payloadOffset), bodyStart, bodyEnd };
}

function dataLayout(m: WasmModule): Layout["data"] {
  const s = m.section(SectionId.data);
  if (!s) return { start: EMPTY, end: EMPTY, active: new Uint8Array(0) };
  // Modules can have 100k segments (Go): read them with inline LEBs, a ByteReader only for the
  // unusual offset expressions and for errors.
  const r = m.reader(s);
  const b = r.bytes;
  const n = r.count();
  // Segments follow each other: one array of n + 1 offsets holds both ends (`end` is `start`
  // shifted by one), half the memory of two arrays for the 100k segments of Go modules.
  const bounds = new Uint32Array(n + 1);
  const out = { start: bounds.subarray(0, n), end: bounds.subarray(1), active: new Uint8Array(n) };
  let p = r.pos;
  const leb = (): number => {
    let v = 0;
    let shift = 0;
    let x;
    do {
      x = b[p++];
      v |= (x & 0x7f) << shift;
      shift += 7;
    } while (x & 0x80 && shift < 35);
    return v >>> 0;
  };
  bounds[0] = r.base + p;
  for (let i = 0; i < n; i++) {
    const at = p;
    const flags = leb();
    if (flags === 2) leb();
    if (flags === 0 || flags === 2) {
      // `i32.const N end` (or i64.const, global.get): skip the LEB inline.
      let q = p + 1;
      if (b[p] === 0x41 || b[p] === 0x42 || b[p] === 0x23) { while (b[q++] & 0x80); }
      if (q > p + 1 && b[q] === 0x0b) p = q + 1;
      else {
        r.pos = p;
        skipConstExpr(r);
        p = r.pos;
      }
    } else if (flags !== 1) r.fail(`invalid data segment flags ${flags}`, at);
    out.active[i] = flags === 1 ? 0 : 1;
    const len = leb();
    if (p > b.length || len > b.length - p) {
      r.fail(`data segment ${i} (${len} bytes) runs past the end of the data section`, at);
    }
    p += len;
    bounds[i + 1] = r.base + p;
  }
  r.pos = p;
  done(r, s);
  return out;
}
