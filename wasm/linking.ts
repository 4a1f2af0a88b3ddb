/**
 * Relocatable objects: the `linking` section (version 2) and `reloc.*` sections, read and written
 * as tool-conventions Linking.md describes them.
 * @module
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import type { Section, WasmModule } from "./module.ts";

/** Symbol kinds of the symbol table. */
export const SymbolKind = {
  function: 0,
  data: 1,
  global: 2,
  section: 3,
  tag: 4,
  table: 5,
} as const;

/** Symbol flags. */
export const SymbolFlags = {
  weak: 0x1,
  local: 0x2,
  hidden: 0x4,
  undefined: 0x10,
  exported: 0x20,
  explicitName: 0x40,
  noStrip: 0x80,
  tls: 0x100,
  absolute: 0x200,
} as const;

/** A symbol table entry. */
export interface SymbolInfo {
  /** Symbol kind (see `SymbolKind`). */
  kind: number;
  /** Symbol flags (see `SymbolFlags`). */
  flags: number;
  /** Name (absent for undefined symbols without an explicit name, and for section symbols). */
  name?: string;
  /** Function/global/tag/table index, data segment index, or section index. */
  index?: number;
  /** Data symbols: offset and size within the segment. */
  offset?: bigint;
  /** Data symbols: size in bytes. */
  size?: bigint;
}

/** One data segment's linking info. */
export interface SegmentInfo {
  /** Segment name (`.rodata.x`, ...). */
  name: string;
  /** log2 of the segment's alignment. */
  alignLog2: number;
  /** Segment flags (strings, TLS, retain). */
  flags: number;
}

/** The decoded `linking` section. Subsections other than the symbol table and segment info stay raw. */
export interface LinkingSection {
  /** Linking metadata version (2). */
  version: number;
  /** The symbol table. */
  symbols: SymbolInfo[];
  /** Data segment infos, by segment index. */
  segments: SegmentInfo[];
  /** Init functions: priority and symbol index. */
  initFuncs: { priority: number; symbol: number }[];
  /** Every subsection in order: decoded ones are re-encoded from the fields above. */
  subsections: { type: number; payload: Uint8Array }[];
}

const SYMBOL_TABLE = 8;
const SEGMENT_INFO = 5;
const INIT_FUNCS = 6;

/** Decodes the `linking` section of a relocatable object. */
export function readLinking(m: WasmModule): LinkingSection | undefined {
  const s = m.section("linking");
  if (!s) return undefined;
  const r = m.reader(s);
  const version = r.u32();
  if (version !== 2) r.fail(`unsupported linking section version ${version} (expected 2)`, 0);
  const out: LinkingSection = {
    version,
    symbols: [],
    segments: [],
    initFuncs: [],
    subsections: [],
  };
  while (!r.done) {
    const type = r.u8();
    const len = r.u32();
    const base = r.offset;
    const payload = r.take(len);
    out.subsections.push({ type, payload });
    const sub = new ByteReader(payload, base);
    if (type === SYMBOL_TABLE) out.symbols = sub.vec(() => readSymbol(sub));
    if (type === INIT_FUNCS) {
      out.initFuncs = sub.vec(() => ({ priority: sub.u32(), symbol: sub.u32() }));
    }
    if (type === SEGMENT_INFO) {
      out.segments = sub.vec(() => ({
        name: sub.name("segment name"),
        alignLog2: sub.u32(),
        flags: sub.u32(),
      }));
    }
  }
  return out;
}

function readSymbol(r: ByteReader): SymbolInfo {
  const at = r.pos;
  const kind = r.u8();
  const flags = r.u32();
  const defined = (flags & SymbolFlags.undefined) === 0;
  const sym: SymbolInfo = { kind, flags };
  switch (kind) {
    case SymbolKind.function:
    case SymbolKind.global:
    case SymbolKind.tag:
    case SymbolKind.table:
      sym.index = r.u32();
      if (defined || (flags & SymbolFlags.explicitName)) sym.name = r.name("symbol name");
      break;
    case SymbolKind.data:
      sym.name = r.name("symbol name");
      if (defined) {
        sym.index = r.u32();
        sym.offset = r.u64();
        sym.size = r.u64();
      }
      break;
    case SymbolKind.section:
      sym.index = r.u32();
      break;
    default:
      r.fail(`unknown symbol kind ${kind}`, at);
  }
  return sym;
}

/** Encodes a `linking` section payload. */
export function encodeLinking(l: LinkingSection): Uint8Array {
  const w = new ByteWriter().u32(l.version);
  for (const { type, payload } of l.subsections) {
    let body = payload;
    if (type === SYMBOL_TABLE) {
      const t = new ByteWriter().u32(l.symbols.length);
      for (const s of l.symbols) writeSymbol(t, s);
      body = t.finish();
    } else if (type === INIT_FUNCS) {
      const t = new ByteWriter().u32(l.initFuncs.length);
      for (const f of l.initFuncs) t.u32(f.priority).u32(f.symbol);
      body = t.finish();
    } else if (type === SEGMENT_INFO) {
      const t = new ByteWriter().u32(l.segments.length);
      for (const s of l.segments) t.name(s.name).u32(s.alignLog2).u32(s.flags);
      body = t.finish();
    }
    w.byte(type).sized(body);
  }
  return w.finish();
}

function writeSymbol(w: ByteWriter, s: SymbolInfo): void {
  w.byte(s.kind).u32(s.flags);
  const defined = (s.flags & SymbolFlags.undefined) === 0;
  if (s.kind === SymbolKind.data) {
    w.name(s.name ?? "");
    if (defined) w.u32(s.index ?? 0).u64(s.offset ?? 0n).u64(s.size ?? 0n);
  } else if (s.kind === SymbolKind.section) {
    w.u32(s.index ?? 0);
  } else {
    w.u32(s.index ?? 0);
    if (defined || (s.flags & SymbolFlags.explicitName)) w.name(s.name ?? "");
  }
}

/** Relocation types of Linking.md. */
export const RelocType = {
  FUNCTION_INDEX_LEB: 0,
  TABLE_INDEX_SLEB: 1,
  TABLE_INDEX_I32: 2,
  MEMORY_ADDR_LEB: 3,
  MEMORY_ADDR_SLEB: 4,
  MEMORY_ADDR_I32: 5,
  TYPE_INDEX_LEB: 6,
  GLOBAL_INDEX_LEB: 7,
  FUNCTION_OFFSET_I32: 8,
  SECTION_OFFSET_I32: 9,
  EVENT_INDEX_LEB: 10,
  MEMORY_ADDR_REL_SLEB: 11,
  TABLE_INDEX_REL_SLEB: 12,
  GLOBAL_INDEX_I32: 13,
  MEMORY_ADDR_LEB64: 14,
  MEMORY_ADDR_SLEB64: 15,
  MEMORY_ADDR_I64: 16,
  MEMORY_ADDR_REL_SLEB64: 17,
  TABLE_INDEX_SLEB64: 18,
  TABLE_INDEX_I64: 19,
  TABLE_NUMBER_LEB: 20,
  MEMORY_ADDR_TLS_SLEB: 21,
  FUNCTION_OFFSET_I64: 22,
  MEMORY_ADDR_LOCREL_I32: 23,
  TABLE_INDEX_REL_SLEB64: 24,
  MEMORY_ADDR_TLS_SLEB64: 25,
  FUNCTION_INDEX_I32: 26,
} as const;

const WITH_ADDEND = new Set<number>([3, 4, 5, 8, 9, 11, 14, 15, 16, 17, 21, 22, 23, 25]);
const ADDEND_64 = new Set<number>([14, 15, 16, 17, 22, 25]);

/** True when relocations of this type carry an addend. */
export function relocHasAddend(type: number): boolean {
  return WITH_ADDEND.has(type);
}

/** One relocation entry. */
export interface Relocation {
  /** Relocation type (see `RelocType`). */
  type: number;
  /** Offset of the patched bytes from the start of the target section's payload. */
  offset: number;
  /** Symbol index (type index for `TYPE_INDEX_LEB`). */
  index: number;
  /** Addend of the types that have one. */
  addend?: bigint;
}

/** A decoded `reloc.*` section: the target section index and its entries. */
export interface RelocSection {
  /** Index of the section the relocations apply to. */
  target: number;
  /** The relocations, in order. */
  entries: Relocation[];
}

/** Decodes a `reloc.*` section. */
export function readRelocs(m: WasmModule, s: Section): RelocSection {
  const r = m.reader(s);
  const target = r.u32();
  const entries = r.vec((): Relocation => {
    const type = r.u8();
    const offset = r.u32();
    const index = r.u32();
    if (!WITH_ADDEND.has(type)) return { type, offset, index };
    return { type, offset, index, addend: ADDEND_64.has(type) ? r.s64() : BigInt(r.s32()) };
  });
  return { target, entries };
}

/** Encodes a `reloc.*` section payload. */
export function encodeRelocs(rs: RelocSection): Uint8Array {
  const w = new ByteWriter().u32(rs.target).u32(rs.entries.length);
  for (const e of rs.entries) {
    w.byte(e.type).u32(e.offset).u32(e.index);
    if (WITH_ADDEND.has(e.type)) {
      if (ADDEND_64.has(e.type)) w.s64(e.addend ?? 0n);
      else w.s32(Number(e.addend ?? 0n));
    }
  }
  return w.finish();
}
