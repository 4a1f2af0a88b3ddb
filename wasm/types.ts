/**
 * Decoders for the standard sections. Each reads one section on demand; function bodies are
 * outlined (located), not parsed.
 * @module
 */
import type { ByteReader } from "./bytes.ts";
import { WasmParseError } from "./errors.ts";
import { type Section, SectionId, type WasmModule } from "./module.ts";

/** A value type as text: "i32", "externref", "(ref null $3)", ... */
export type ValType = string;

const SIMPLE_TYPES: Record<number, string> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
  0x6e: "anyref",
  0x6d: "eqref",
  0x6c: "i31ref",
  0x6b: "structref",
  0x6a: "arrayref",
  0x69: "exnref",
  0x74: "nullexnref",
  0x73: "nullfuncref",
  0x72: "nullexternref",
  0x71: "nullref",
};

const HEAP_TYPES: Record<number, string> = {
  0x70: "func",
  0x6f: "extern",
  0x6e: "any",
  0x6d: "eq",
  0x6c: "i31",
  0x6b: "struct",
  0x6a: "array",
  0x69: "exn",
  0x74: "noexn",
  0x73: "nofunc",
  0x72: "noextern",
  0x71: "none",
};

function heapType(r: ByteReader): string {
  const b = r.bytes[r.pos];
  if (HEAP_TYPES[b] !== undefined && !(b & 0x80)) {
    r.pos++;
    return HEAP_TYPES[b];
  }
  const idx = r.s64();
  if (idx < 0n) r.fail(`invalid heap type ${idx}`);
  return `$${idx}`;
}

/** Reads a value type. */
export function valType(r: ByteReader): ValType {
  const at = r.pos;
  const b = r.u8();
  if (SIMPLE_TYPES[b]) return SIMPLE_TYPES[b];
  if (b === 0x63) return `(ref null ${heapType(r)})`;
  if (b === 0x64) return `(ref ${heapType(r)})`;
  return r.fail(`invalid value type 0x${b.toString(16)}`, at);
}

/** Limits of a memory or table. `min`/`max` are bigints so 64-bit limits are exact. */
export interface Limits {
  /** Minimum size (pages for memories, elements for tables). */
  min: bigint;
  /** Maximum size, when declared. */
  max?: bigint;
  /** True for shared memories. */
  shared: boolean;
  /** True for 64-bit memories and tables (memory64, table64). */
  is64: boolean;
  /** log2 of a custom page size (custom-page-sizes proposal). */
  pageSizeLog2?: number;
}

/** Reads limits (flags byte, then min and optional max). */
export function limits(r: ByteReader): Limits {
  const at = r.pos;
  const flags = r.u8();
  if (flags & ~0x0f) r.fail(`invalid limits flags 0x${flags.toString(16)}`, at);
  const is64 = (flags & 4) !== 0;
  const read = () => is64 ? r.u64() : BigInt(r.u32());
  const min = read();
  const max = flags & 1 ? read() : undefined;
  const pageSizeLog2 = flags & 8 ? r.u32() : undefined;
  return { min, max, shared: (flags & 2) !== 0, is64, pageSizeLog2 };
}

/** A table type. */
export interface TableType {
  /** Element type (`funcref`, `externref`, ...). */
  element: ValType;
  /** Size limits. */
  limits: Limits;
  /** Raw initializer expression bytes (tables with an explicit init). */
  init?: Uint8Array;
}

function tableType(r: ByteReader): TableType {
  const element = valType(r);
  return { element, limits: limits(r) };
}

/** A global type. */
export interface GlobalType {
  /** Value type of the global. */
  type: ValType;
  /** True for `mut` globals. */
  mutable: boolean;
}

function globalType(r: ByteReader): GlobalType {
  const type = valType(r);
  const m = r.u8();
  if (m > 1) r.fail(`invalid global mutability ${m}`, r.pos - 1);
  return { type, mutable: m === 1 };
}

/** A composite type from the type section (func types fully; GC types by kind). */
export type TypeDef =
  | { kind: "func"; params: ValType[]; results: ValType[] }
  | { kind: "struct" | "array" | "cont"; raw?: undefined };

function compositeType(r: ByteReader): TypeDef {
  const at = r.pos;
  const form = r.u8();
  switch (form) {
    case 0x60:
      return { kind: "func", params: r.vec(() => valType(r)), results: r.vec(() => valType(r)) };
    case 0x5f:
      r.vec(() => {
        storageType(r);
        r.u8();
      });
      return { kind: "struct" };
    case 0x5e:
      storageType(r);
      r.u8();
      return { kind: "array" };
    case 0x5d:
      r.s64();
      return { kind: "cont" };
    default:
      return r.fail(`invalid type form 0x${form.toString(16)}`, at);
  }
}

function storageType(r: ByteReader): void {
  const b = r.bytes[r.pos];
  if (b === 0x78 || b === 0x77) r.pos++;
  else valType(r);
}

function subType(r: ByteReader): TypeDef {
  const b = r.bytes[r.pos];
  if (b === 0x50 || b === 0x4f) {
    r.pos++;
    r.vec(() => r.u32());
  }
  return compositeType(r);
}

/** Reads the type section (rec groups are flattened into type indices). */
export function readTypes(m: WasmModule): TypeDef[] {
  return withSection(m, SectionId.type, (r) => {
    const out: TypeDef[] = [];
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      if (r.bytes[r.pos] === 0x4e) {
        r.pos++;
        out.push(...r.vec(() => subType(r)));
      } else out.push(subType(r));
    }
    return out;
  });
}

/** An import. */
export type Import =
  & { module: string; name: string }
  & (
    | { kind: "func"; type: number }
    | { kind: "table"; table: TableType }
    | { kind: "memory"; memory: Limits }
    | { kind: "global"; global: GlobalType }
    | { kind: "tag"; type: number }
  );

/** Reads the import section. */
export function readImports(m: WasmModule): Import[] {
  return withSection(m, SectionId.import, (r) =>
    r.vec((): Import => {
      const module = r.name("import module name");
      const name = r.name("import name");
      const at = r.pos;
      const kind = r.u8();
      switch (kind) {
        case 0:
          return { module, name, kind: "func", type: r.u32() };
        case 1:
          return { module, name, kind: "table", table: tableType(r) };
        case 2:
          return { module, name, kind: "memory", memory: limits(r) };
        case 3:
          return { module, name, kind: "global", global: globalType(r) };
        case 4:
          r.u8();
          return { module, name, kind: "tag", type: r.u32() };
        default:
          return r.fail(`invalid import kind ${kind}`, at);
      }
    }));
}

/** Reads the function section: the type index of each defined function. */
export function readFunctions(m: WasmModule): number[] {
  return withSection(m, SectionId.function, (r) => r.vec(() => r.u32()));
}

/** Reads the table section. */
export function readTables(m: WasmModule): TableType[] {
  return withSection(m, SectionId.table, (r) =>
    r.vec(() => {
      if (r.bytes[r.pos] === 0x40 && r.bytes[r.pos + 1] === 0x00) {
        r.pos += 2;
        const t = tableType(r);
        const start = r.pos;
        skipConstExpr(r);
        return { ...t, init: r.bytes.subarray(start, r.pos) };
      }
      return tableType(r);
    }));
}

/** Reads the memory section. */
export function readMemories(m: WasmModule): Limits[] {
  return withSection(m, SectionId.memory, (r) => r.vec(() => limits(r)));
}

/** A defined global with its raw init expression (without the final `end`). */
export interface Global extends GlobalType {
  /** The init expression's bytes, without the final `end`. */
  init: Uint8Array;
}

/** Reads the global section. */
export function readGlobals(m: WasmModule): Global[] {
  return withSection(m, SectionId.global, (r) =>
    r.vec(() => {
      const t = globalType(r);
      return { ...t, init: constExpr(r) };
    }));
}

/** External kinds by their binary code. */
export const EXTERNAL_KINDS = ["func", "table", "memory", "global", "tag"] as const;
/** An external kind. */
export type ExternalKind = typeof EXTERNAL_KINDS[number];

/** An export. */
export interface Export {
  /** Export name. */
  name: string;
  /** What is exported. */
  kind: ExternalKind;
  /** Index in the index space of that kind. */
  index: number;
}

/** Reads the export section. */
export function readExports(m: WasmModule): Export[] {
  return withSection(m, SectionId.export, (r) =>
    r.vec(() => {
      const name = r.name("export name");
      const at = r.pos;
      const k = r.u8();
      const kind = EXTERNAL_KINDS[k] ?? r.fail(`invalid export kind ${k}`, at);
      return { name, kind, index: r.u32() };
    }));
}

/** Reads the start function index, if any. */
export function readStart(m: WasmModule): number | undefined {
  const s = m.section(SectionId.start);
  return s ? m.reader(s).u32() : undefined;
}

/** An element segment. */
export interface ElementSegment {
  /** How the segment is used. */
  mode: "active" | "passive" | "declarative";
  /** Table index of an active segment (0 otherwise). */
  table: number;
  /** Offset expression of an active segment (without `end`). */
  offset?: Uint8Array;
  /** Element type. */
  type: ValType;
  /** Function indices (for index-form segments) */
  functions?: number[];
  /** Raw item expressions (for expression-form segments). */
  expressions?: Uint8Array[];
}

/** Reads the element section. */
export function readElements(m: WasmModule): ElementSegment[] {
  return withSection(m, SectionId.element, (r) =>
    r.vec((): ElementSegment => {
      const at = r.pos;
      const flags = r.u32();
      if (flags > 7) r.fail(`invalid element segment flags ${flags}`, at);
      const passiveOrDecl = (flags & 1) !== 0;
      const explicitTable = (flags & 2) !== 0;
      const exprs = (flags & 4) !== 0;
      const mode = !passiveOrDecl ? "active" : explicitTable ? "declarative" : "passive";
      let table = 0;
      let offset: Uint8Array | undefined;
      if (mode === "active") {
        if (explicitTable) table = r.u32();
        offset = constExpr(r);
      }
      let type: ValType = "funcref";
      if (passiveOrDecl || explicitTable) {
        if (exprs) type = valType(r);
        else if (r.u8() !== 0) r.fail("invalid element kind", r.pos - 1);
      }
      if (exprs) return { mode, table, offset, type, expressions: r.vec(() => constExpr(r)) };
      return { mode, table, offset, type, functions: r.vec(() => r.u32()) };
    }));
}

/** Reads the data count, if present. */
export function readDataCount(m: WasmModule): number | undefined {
  const s = m.section(SectionId.dataCount);
  return s ? m.reader(s).u32() : undefined;
}

/** A function body, located but not parsed. */
export interface FunctionBody {
  /** File offset of the body (after its size), or -1 when the section was rebuilt. */
  offset: number;
  /** The body bytes: locals then instructions. */
  body: Uint8Array;
}

/**
 * The last outline of each code payload: passes that run one after another on a large module
 * (panic, dce, ...) read the same section several times. A section given new bytes has a new
 * payload array, so it is outlined again.
 */
const outlines = new WeakMap<Uint8Array, { offset: number; bodies: readonly FunctionBody[] }>();

/**
 * Outlines the code section: one entry per defined function. The array is shared by the calls
 * made while the section is unchanged: read-only (frozen).
 */
export function readCode(m: WasmModule): readonly FunctionBody[] {
  const s = m.section(SectionId.code);
  if (!s) return [];
  const known = outlines.get(s.payload);
  if (known && known.offset === s.payloadOffset) return known.bodies;
  const bodies = Object.freeze(outlineCode(s));
  outlines.set(s.payload, { offset: s.payloadOffset, bodies });
  return bodies;
}

function outlineCode(s: Section): FunctionBody[] {
  // The hot path of every code pass on large modules: sizes read inline, bodies as views.
  const p = s.payload;
  const base = Math.max(0, s.payloadOffset);
  let pos = 0;
  const fail = (message: string, at: number): never => {
    throw new WasmParseError(message, base + at);
  };
  const u32 = (): number => {
    let v = 0, shift = 0;
    const at = pos;
    for (;;) {
      if (pos >= p.length) fail("Unexpected end of section", pos);
      const b = p[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 28) fail("invalid u32 LEB128: more than 5 bytes", at);
    }
    if (v > 0xffffffff) fail("invalid u32 LEB128: value out of range", at);
    return v;
  };
  const count = u32();
  if (count > p.length - pos) {
    fail(`Vector count ${count} is larger than the bytes left in the section`, pos);
  }
  const out: FunctionBody[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const size = u32();
    if (size > p.length - pos) {
      fail(`Length ${size} runs past the end of the section (${p.length - pos} bytes left)`, pos);
    }
    out[i] = { offset: base + pos, body: p.subarray(pos, pos + size) };
    pos += size;
  }
  if (pos < p.length) {
    fail(`${p.length - pos} unexpected bytes at the end of the code section`, pos);
  }
  return out;
}

/** A data segment. */
export interface DataSegment {
  /** Active segments are copied at instantiation; passive ones by `memory.init`. */
  mode: "active" | "passive";
  /** Memory index of an active segment. */
  memory: number;
  /** Offset expression of an active segment (without `end`). */
  offset?: Uint8Array;
  /** File offset of the data bytes. */
  dataOffset: number;
  /** The segment's bytes (a view of the input). */
  data: Uint8Array;
}

/** Reads the data section (segment bytes are views). */
export function readData(m: WasmModule): DataSegment[] {
  return withSection(m, SectionId.data, (r) =>
    r.vec((): DataSegment => {
      const at = r.pos;
      const flags = r.u32();
      let memory = 0;
      let offset: Uint8Array | undefined;
      if (flags === 2) memory = r.u32();
      if (flags === 0 || flags === 2) offset = constExpr(r);
      else if (flags !== 1) r.fail(`invalid data segment flags ${flags}`, at);
      const len = r.u32();
      const dataOffset = r.offset;
      return {
        mode: flags === 1 ? "passive" : "active",
        memory,
        offset,
        dataOffset,
        data: r.take(len),
      };
    }));
}

/** Reads the tag section: the type index of each tag. */
export function readTags(m: WasmModule): number[] {
  return withSection(m, SectionId.tag, (r) =>
    r.vec(() => {
      r.u8();
      return r.u32();
    }));
}

/** Runs `fn` on a reader for the section with `id`; an absent section reads as empty. */
function withSection<T>(
  m: WasmModule,
  id: number,
  fn: (r: ByteReader) => T[],
): T[] {
  const s: Section | undefined = m.section(id);
  if (!s) return [];
  const r = m.reader(s);
  const out = fn(r);
  if (!r.done) {
    r.fail(`${r.bytes.length - r.pos} unexpected bytes at the end of the ${s.name} section`);
  }
  return out;
}

/** Reads a constant expression and returns its bytes without the final `end`. */
export function constExpr(r: ByteReader): Uint8Array {
  const start = r.pos;
  const end = skipConstExpr(r);
  return r.bytes.subarray(start, end);
}

/** Skips a constant expression including its `end`; returns the position of the `end`. */
export function skipConstExpr(r: ByteReader): number {
  for (;;) {
    const at = r.pos;
    const op = r.u8();
    switch (op) {
      case 0x0b:
        return at;
      case 0x41:
        r.s32();
        break;
      case 0x42:
        r.s64();
        break;
      case 0x43:
        r.take(4);
        break;
      case 0x44:
        r.take(8);
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        r.u32();
        break;
      case 0xd0: // ref.null
        heapType(r);
        break;
      case 0x6a:
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      case 0xfd: // v128.const
        if (r.u32() !== 12) r.fail("unsupported SIMD instruction in a constant expression", at);
        r.take(16);
        break;
      case 0xfb: { // GC constant instructions
        const sub = r.u32();
        if (sub === 0 || sub === 1 || sub === 6 || sub === 7) r.u32();
        else if (sub === 8) {
          r.u32();
          r.u32();
        } else if (sub !== 0x1a && sub !== 0x1b && sub !== 0x1c) {
          r.fail(`unsupported GC instruction 0xfb ${sub} in a constant expression`, at);
        }
        break;
      }
      default:
        r.fail(`unsupported instruction 0x${op.toString(16)} in a constant expression`, at);
    }
  }
}
