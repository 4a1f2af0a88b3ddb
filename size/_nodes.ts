/**
 * The node table of a size analysis: every item of the module (function, import, global, table,
 * memory, element or data segment, custom section, section overhead) with its own bytes, in
 * index-space blocks, and what names it.
 * @module
 */
import { readNames } from "../wasm/custom.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { readLinking, SymbolFlags, SymbolKind } from "../wasm/linking.ts";
import { sectionByteLength, SectionId, type WasmModule } from "../wasm/module.ts";
import { readExports, readTypes } from "../wasm/types.ts";
import { type Layout, readLayout } from "./layout.ts";

/** Item kinds, by code. */
export const ITEM_KINDS = [
  "root",
  "function",
  "import",
  "global",
  "table",
  "memory",
  "element",
  "data",
  "custom",
  "section",
  "table-contents",
  "indirect",
] as const;
/** A kind of item. */
export type ItemKind = typeof ITEM_KINDS[number];
/** Kind codes by name. */
export const K = Object.fromEntries(ITEM_KINDS.map((k, i) => [k, i])) as Record<ItemKind, number>;

/** Why an edge exists, by code. */
export const EDGE_KINDS = [
  "",
  "export",
  "start",
  "call",
  "ref.func",
  "call_indirect",
  "table element",
  "segment",
  "global",
  "table",
  "data segment",
  "element segment",
  "always kept",
  "initializer",
  "symbol",
  "function pointer",
  "address",
  "imported",
] as const;
/** A kind of edge. */
export type EdgeKind = typeof EDGE_KINDS[number];
/** Edge kind codes by name. */
export const E = Object.fromEntries(EDGE_KINDS.map((k, i) => [k, i])) as Record<EdgeKind, number>;

/** Sizes of the index spaces (imports included). */
interface Spaces {
  funcs: number;
  globals: number;
  tables: number;
  memories: number;
}

/** The node table: one node per item, in index-space blocks, and what names them. */
export interface NodeTable {
  m: WasmModule;
  layout: Layout;
  kind: Uint8Array;
  /** Index of node `v` (below `fixed`) in its own index space (-1 for the root and sections). */
  indexOf: (v: number) => number;
  shallow: Float64Array;
  /** Number of nodes before virtual call_indirect nodes are added. */
  fixed: number;
  space: Spaces;
  funcBase: number;
  globalBase: number;
  tableBase: number;
  memBase: number;
  elemBase: number;
  dataBase: number;
  sectionBase: number;
  sectionCount: number;
  contentsBase: number;
  funcImports: number[];
  tableImports: number[];
  exportOf: Map<number, string>;
  exportRoots: { node: number; table: number }[];
  symbolRoots: number[];
  /** Relocatable objects: the node of each symbol (-1 when none). */
  symbolNodes: Int32Array;
  rawName: (node: number) => string | undefined;
  /** Signatures by structure (see canonicalTypes). */
  canonical: { of: number[]; count: number; exact: boolean };
}

/** Reads the layout of `m` and builds its node table. */
export function buildNodes(m: WasmModule): NodeTable {
  const layout = readLayout(m);
  const imp = layout.imports;
  const space: Spaces = { funcs: 0, globals: 0, tables: 0, memories: 0 };
  // Index spaces: imports first, then definitions.
  const importNode: number[] = []; // import entry → node (or -1 when it stays section overhead)
  const funcImports: number[] = [];
  const globalImports: number[] = [];
  const tableImports: number[] = [];
  const memImports: number[] = [];
  for (let i = 0; i < imp.kind.length; i++) {
    const k = imp.kind[i];
    if (k === 0) funcImports.push(i);
    else if (k === 1) tableImports.push(i);
    else if (k === 2) memImports.push(i);
    else if (k === 3) globalImports.push(i);
  }
  space.funcs = funcImports.length + layout.funcTypes.length;
  space.globals = globalImports.length + layout.globals.start.length;
  space.tables = tableImports.length + layout.tables.start.length;
  space.memories = memImports.length + layout.memories.start.length;
  const funcBase = 1;
  const globalBase = funcBase + space.funcs;
  const tableBase = globalBase + space.globals;
  const memBase = tableBase + space.tables;
  const elemBase = memBase + space.memories;
  const dataBase = elemBase + layout.elems.start.length;
  const sectionBase = dataBase + layout.data.start.length;
  // One section node per section (custom sections whole, standard ones for their overhead) and
  // one for the 8-byte header.
  const sectionCount = m.sections.length + 1;
  const contentsBase = sectionBase + sectionCount;
  const fixed = contentsBase + space.tables;

  // Room for the virtual call_indirect nodes the graph may add (one per table and signature), so
  // building the graph never copies the node arrays.
  const canonical = canonicalTypes(m);
  const capacity = fixed + space.tables * (canonical.count || 1);
  const kind = new Uint8Array(capacity).subarray(0, fixed);
  const shallow = new Float64Array(capacity).subarray(0, fixed);
  kind[0] = K.root;
  const importSize = (i: number) => imp.end[i] - imp.start[i];
  // Functions.
  funcImports.forEach((entry, f) => {
    kind[funcBase + f] = K.import;
    shallow[funcBase + f] = importSize(entry);
    importNode[entry] = funcBase + f;
  });
  const code = layout.code;
  const defined = layout.funcTypes.length;
  if (code.bodyStart.length !== defined) {
    throw new WasmParseError(
      `the code section has ${code.bodyStart.length} bodies but the function section declares ${defined} functions; the file is corrupt, rebuild it`,
      m.section(SectionId.code)?.payloadOffset ?? 8,
    );
  }
  let bodiesStart = 0;
  if (defined > 0) {
    // Each function's bytes: its body and the LEB of its size.
    const codeSection = m.section(SectionId.code)!;
    const r = m.reader(codeSection);
    r.u32();
    bodiesStart = r.pos;
  }
  for (let i = 0; i < defined; i++) {
    const v = funcBase + funcImports.length + i;
    kind[v] = K.function;
    shallow[v] = code.bodyEnd[i] - (i === 0 ? bodiesStart : code.bodyEnd[i - 1]);
  }
  const place = (
    base: number,
    k: number,
    importsOf: number[],
    spans: { start: Uint32Array; end: Uint32Array },
  ) => {
    importsOf.forEach((entry, j) => {
      kind[base + j] = k;
      shallow[base + j] = importSize(entry);
      importNode[entry] = base + j;
    });
    for (let j = 0; j < spans.start.length; j++) {
      const v = base + importsOf.length + j;
      kind[v] = k;
      shallow[v] = spans.end[j] - spans.start[j];
    }
  };
  place(globalBase, K.global, globalImports, layout.globals);
  place(tableBase, K.table, tableImports, layout.tables);
  place(memBase, K.memory, memImports, layout.memories);
  place(elemBase, K.element, [], layout.elems);
  place(dataBase, K.data, [], layout.data);
  // Sections: custom ones whole; standard ones for the bytes no item above took.
  const itemized = new Map<number, number>([
    [
      SectionId.import,
      sum(shallow, funcBase, funcBase + funcImports.length) +
      importNode.reduce((n, v, entry) => (v >= globalBase ? n + importSize(entry) : n), 0),
    ],
    [SectionId.code, sum(shallow, funcBase + funcImports.length, globalBase)],
    [SectionId.global, spanSum(layout.globals)],
    [SectionId.table, spanSum(layout.tables)],
    [SectionId.memory, spanSum(layout.memories)],
    [SectionId.element, spanSum(layout.elems)],
    [SectionId.data, spanSum(layout.data)],
  ]);
  const sectionName: string[] = [];
  kind[sectionBase] = K.section;
  shallow[sectionBase] = 8;
  sectionName.push("header");
  m.sections.forEach((s, j) => {
    const v = sectionBase + 1 + j;
    const bytes = sectionByteLength(s);
    if (s.id === 0) {
      kind[v] = K.custom;
      shallow[v] = bytes;
      sectionName.push(s.name);
    } else {
      kind[v] = K.section;
      // The readers use the first section of an id; a repeated one (invalid) stays whole.
      const first = m.section(s.id) === s;
      shallow[v] = bytes - (first ? itemized.get(s.id) ?? 0 : 0);
      sectionName.push(`${s.name} section${first && itemized.has(s.id) ? " (headers)" : ""}`);
    }
  });
  for (let t = 0; t < space.tables; t++) {
    kind[contentsBase + t] = K["table-contents"];
  }

  const exportOf = new Map<number, string>();
  const exportRoots: { node: number; table: number }[] = [];
  const nodeOf = (k: number, i: number): number => {
    const base = [0, funcBase, 0, globalBase, tableBase, memBase][k];
    const limit = [0, space.funcs, 0, space.globals, space.tables, space.memories][k];
    return i < limit ? base + i : -1;
  };
  const EXPORT_KIND_TO_ITEM = [1, 4, 5, 3]; // func, table, memory, global
  for (const e of readExports(m)) {
    const k = EXPORT_KIND_TO_ITEM[["func", "table", "memory", "global"].indexOf(e.kind)];
    if (k === undefined) continue;
    const v = nodeOf(k, e.index);
    if (v < 0) continue;
    if (!exportOf.has(v)) exportOf.set(v, e.name);
    exportRoots.push({ node: v, table: k === 4 ? e.index : -1 });
  }
  // Relocatable objects: every defined symbol other modules can see is a root.
  const linking = m.isRelocatable ? readLinking(m) : undefined;
  const symbolName = new Map<number, string>();
  const symbolRoots: number[] = [];
  // The node of each symbol (-1 for section symbols and what has no node), for relocations.
  const symbolNodes = new Int32Array(linking?.symbols.length ?? 0).fill(-1);
  if (linking) {
    for (const [s, sym] of linking.symbols.entries()) {
      if (sym.index === undefined || sym.flags & SymbolFlags.undefined) {
        if (sym.kind === SymbolKind.function && sym.index !== undefined) {
          symbolNodes[s] = nodeOf(1, sym.index);
          if (sym.name) symbolName.set(funcBase + sym.index, sym.name);
        } else if (sym.kind === SymbolKind.global && sym.index !== undefined) {
          symbolNodes[s] = nodeOf(3, sym.index);
        }
        continue;
      }
      const v = sym.kind === SymbolKind.function
        ? nodeOf(1, sym.index)
        : sym.kind === SymbolKind.global
        ? nodeOf(3, sym.index)
        : sym.kind === SymbolKind.table
        ? nodeOf(4, sym.index)
        : sym.kind === SymbolKind.data && sym.index < layout.data.start.length
        ? dataBase + sym.index
        : -1;
      if (v < 0) continue;
      symbolNodes[s] = v;
      if (sym.name && !symbolName.has(v)) symbolName.set(v, sym.name);
      const local = (sym.flags & SymbolFlags.local) !== 0;
      if (!local || sym.flags & (SymbolFlags.noStrip | SymbolFlags.exported)) {
        symbolRoots.push(v);
      }
    }
    for (const init of linking.initFuncs) {
      const sym = linking.symbols[init.symbol];
      if (sym?.kind === SymbolKind.function && sym.index !== undefined) {
        symbolRoots.push(funcBase + sym.index);
      }
    }
    linking.segments.forEach((s, j) => {
      const v = dataBase + j;
      if (j < layout.data.start.length && !symbolName.has(v)) symbolName.set(v, s.name);
    });
  }

  // Indices follow from the blocks (no node-sized array).
  const BASES = [
    -1,
    funcBase,
    funcBase,
    globalBase,
    tableBase,
    memBase,
    elemBase,
    dataBase,
    -1,
    -1,
  ];
  const indexOf = (v: number): number => {
    const k = kind[v];
    if (k === K["table-contents"]) return v - contentsBase;
    const base = BASES[k];
    return base >= 0 ? v - base : -1;
  };

  // Names, decoded once, looked up on demand.
  const names = readNames(m);
  const rawName = (v: number): string | undefined => {
    const k = kind[v];
    const i = indexOf(v);
    if (k === K.custom || (k === K.section && v >= sectionBase)) {
      return sectionName[v - sectionBase];
    }
    if (k === K.import) {
      return names?.functions.get(i) ?? imp.names[funcImports[i]];
    }
    if (k === K.function) return names?.functions.get(i) ?? symbolName.get(v) ?? exportOf.get(v);
    if (k === K.global) {
      return names?.globals.get(i) ?? symbolName.get(v) ?? exportOf.get(v) ??
        (i < globalImports.length ? imp.names[globalImports[i]] : undefined);
    }
    if (k === K.table) {
      return names?.tables.get(i) ?? exportOf.get(v) ??
        (i < tableImports.length ? imp.names[tableImports[i]] : undefined);
    }
    if (k === K.memory) {
      return names?.memories.get(i) ?? exportOf.get(v) ??
        (i < memImports.length ? imp.names[memImports[i]] : undefined);
    }
    if (k === K.element) return names?.elementSegments.get(i);
    if (k === K.data) return names?.dataSegments.get(i) ?? symbolName.get(v);
    return undefined;
  };
  return {
    m,
    layout,
    kind,
    indexOf,
    shallow,
    fixed,
    space,
    funcBase,
    globalBase,
    tableBase,
    memBase,
    elemBase,
    dataBase,
    sectionBase,
    sectionCount,
    contentsBase,
    funcImports,
    tableImports,
    exportOf,
    exportRoots,
    symbolRoots,
    symbolNodes,
    rawName,
    canonical,
  };
}

function sum(a: Float64Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += a[i];
  return n;
}

function spanSum(s: { start: Uint32Array; end: Uint32Array }): number {
  let n = 0;
  for (let i = 0; i < s.start.length; i++) n += s.end[i] - s.start[i];
  return n;
}

/**
 * Function types by structure: `of[type]` is a canonical id equal for equal signatures. `exact`
 * is false when the module declares GC types (subtyping makes call_indirect match more than
 * equal signatures; the analysis then lets it reach the whole table).
 */
function canonicalTypes(m: WasmModule): { of: number[]; count: number; exact: boolean } {
  const types = readTypes(m);
  const ids = new Map<string, number>();
  const of: number[] = [];
  let exact = true;
  for (const t of types) {
    if (t.kind !== "func") {
      exact = false;
      of.push(-1);
      continue;
    }
    const key = `${t.params.join(",")}->${t.results.join(",")}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, id = ids.size);
    of.push(id);
  }
  return { of, count: ids.size, exact };
}
