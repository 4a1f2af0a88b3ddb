/**
 * Decoders for the `name`, `producers` and `target_features` custom sections.
 * @module
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import type { WasmModule } from "./module.ts";

/** Names from the `name` section. Maps are index → name. */
export interface NameSection {
  /** The module's name, when given. */
  module?: string;
  /** Function names by function index. */
  functions: Map<number, string>;
  /** Global names by global index. */
  globals: Map<number, string>;
  /** Data segment names by segment index. */
  dataSegments: Map<number, string>;
  /** Table names by table index. */
  tables: Map<number, string>;
  /** Memory names by memory index. */
  memories: Map<number, string>;
  /** Tag names by tag index. */
  tags: Map<number, string>;
  /** Type names by type index. */
  types: Map<number, string>;
  /** Element segment names by segment index. */
  elementSegments: Map<number, string>;
  /** Subsection ids present (locals, labels, fields, ... are located but not decoded). */
  subsections: number[];
}

const NAME_MAPS: Record<number, keyof NameSection> = {
  1: "functions",
  4: "types",
  5: "tables",
  6: "memories",
  7: "globals",
  8: "elementSegments",
  9: "dataSegments",
  11: "tags",
};

/** Decodes the `name` section, or returns undefined when there is none. */
export function readNames(m: WasmModule): NameSection | undefined {
  const s = m.section("name");
  if (!s) return undefined;
  const r = m.reader(s);
  const out: NameSection = {
    functions: new Map(),
    globals: new Map(),
    dataSegments: new Map(),
    tables: new Map(),
    memories: new Map(),
    tags: new Map(),
    types: new Map(),
    elementSegments: new Map(),
    subsections: [],
  };
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const sub = new ByteReader(r.take(size), r.offset - size);
    out.subsections.push(id);
    if (id === 0) out.module = sub.name("module name");
    const key = NAME_MAPS[id];
    if (key) {
      const map = out[key] as Map<number, string>;
      readNameMap(sub, map);
    }
  }
  return out;
}

/** One byte per character: offsets in the text are offsets in the bytes. */
const latin1 = new TextDecoder("latin1");

/**
 * Reads a name map (index, name pairs) into `map`. The subsection is decoded once as one string
 * and each ASCII name is a slice of it (most names are): no decoder call and no copy per name.
 */
function readNameMap(sub: ByteReader, map: Map<number, string>): void {
  const text = latin1.decode(sub.bytes);
  const count = sub.count();
  for (let i = 0; i < count; i++) {
    const index = sub.u32();
    const start = sub.pos;
    const length = sub.u32();
    const from = sub.pos;
    sub.skip(length);
    const name = text.slice(from, from + length);
    if (!NOT_ASCII.test(name)) map.set(index, name);
    else {
      sub.pos = start;
      map.set(index, sub.name("name in the name section"));
    }
  }
}

/** A byte that is not ASCII, in a latin1 view of UTF-8 bytes (the name is then decoded). */
const NOT_ASCII = /[\u0080-\uffff]/;

/** Encodes a function-names map as a `name` subsection 1 (used by passes that rename). */
export function encodeNameMap(id: number, map: Map<number, string>): Uint8Array {
  const inner = new ByteWriter().u32(map.size);
  for (const [i, n] of [...map].sort((a, b) => a[0] - b[0])) inner.u32(i).name(n);
  const body = inner.finish();
  return new ByteWriter().byte(id).sized(body).finish();
}

/** The `producers` section: field → [(name, version)]. */
export type Producers = Record<string, { name: string; version: string }[]>;

/** Decodes the `producers` section. */
export function readProducers(m: WasmModule): Producers | undefined {
  const s = m.section("producers");
  if (!s) return undefined;
  const r = m.reader(s);
  const out: Producers = {};
  r.vec(() => {
    const field = r.name("producers field");
    out[field] = r.vec(() => ({
      name: r.name("producer name"),
      version: r.name("producer version"),
    }));
  });
  return out;
}

/** One entry of `target_features`: prefix is "+" (used), "-" (disallowed) or "=" (required). */
export interface TargetFeature {
  /** `+` used, `-` disallowed, `=` required. */
  prefix: "+" | "-" | "=";
  /** Feature name (`bulk-memory`, `reference-types`, ...). */
  name: string;
}

/** Decodes the `target_features` section. */
export function readTargetFeatures(m: WasmModule): TargetFeature[] | undefined {
  const s = m.section("target_features");
  if (!s) return undefined;
  const r = m.reader(s);
  return r.vec(() => {
    const at = r.pos;
    const p = String.fromCharCode(r.u8());
    if (p !== "+" && p !== "-" && p !== "=") r.fail(`invalid target feature prefix "${p}"`, at);
    return { prefix: p as TargetFeature["prefix"], name: r.name("feature name") };
  });
}
