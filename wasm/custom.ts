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

/** The name maps of {@linkcode NameSection}, each a subsection of the `name` section. */
export type NameMapName =
  | "functions"
  | "types"
  | "tables"
  | "memories"
  | "globals"
  | "elementSegments"
  | "dataSegments"
  | "tags";

/** The subsection id of each name map. */
const NAME_IDS: Record<NameMapName, number> = {
  functions: 1,
  types: 4,
  tables: 5,
  memories: 6,
  globals: 7,
  elementSegments: 8,
  dataSegments: 9,
  tags: 11,
};

const NAME_MAPS: Record<number, keyof NameSection> = Object.fromEntries(
  Object.entries(NAME_IDS).map(([key, id]) => [id, key as keyof NameSection]),
);

/**
 * Decodes the `name` section, or returns undefined when there is none. With `only`, just those
 * maps are decoded (the others stay empty): on a large module the function names are most of the
 * section.
 */
export function readNames(
  m: WasmModule,
  only?: readonly NameMapName[],
): NameSection | undefined {
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
    if (key && (!only || only.includes(key as NameMapName))) {
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

/**
 * A name-map subsection (`id`, size, map) with `added` appended after the entries of `payload`
 * (an existing subsection's payload, or undefined for none), without decoding them: the indices
 * added must be above every index there (new functions or globals at the end of their space).
 *
 * @example Name a new function 2 after functions 0 and 1
 * ```ts
 * import assert from "node:assert";
 * import { appendToNameMap, encodeNameMap } from "./custom.ts";
 * const old = encodeNameMap(1, new Map([[0, "a"], [1, "b"]])).subarray(2); // the map itself
 * assert.deepStrictEqual(
 *   appendToNameMap(1, old, new Map([[2, "c"]])),
 *   encodeNameMap(1, new Map([[0, "a"], [1, "b"], [2, "c"]])),
 * );
 * ```
 */
export function appendToNameMap(
  id: number,
  payload: Uint8Array | undefined,
  added: Map<number, string>,
): Uint8Array {
  if (!payload) return encodeNameMap(id, added);
  const r = new ByteReader(payload);
  const count = r.count();
  const inner = new ByteWriter().u32(count + added.size).bytes(payload.subarray(r.pos));
  for (const [i, n] of [...added].sort((a, b) => a[0] - b[0])) inner.u32(i).name(n);
  return new ByteWriter().byte(id).sized(inner.finish()).finish();
}

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
