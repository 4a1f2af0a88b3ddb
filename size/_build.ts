/**
 * Builds the analysis: the node table (every item with its own bytes, by index space) and, on
 * demand, the reference graph from the exports, start, tables, initializers, symbols and a scan
 * of the function bodies.
 * @module
 */
import { readNames } from "../wasm/custom.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { readLinking, SymbolFlags, SymbolKind } from "../wasm/linking.ts";
import { sectionByteLength, SectionId, type WasmModule } from "../wasm/module.ts";
import { readExports, readStart, readTypes } from "../wasm/types.ts";
import { EdgeList, Graph } from "./graph.ts";
import { type Layout, readLayout } from "./layout.ts";
import { Ref, scanBodies } from "./scan.ts";

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
] as const;
/** A kind of edge. */
export type EdgeKind = typeof EDGE_KINDS[number];
const E = Object.fromEntries(EDGE_KINDS.map((k, i) => [k, i])) as Record<EdgeKind, number>;

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
  index: Int32Array;
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
  rawName: (node: number) => string | undefined;
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

  const kind = new Uint8Array(fixed);
  const index = new Int32Array(fixed);
  const shallow = new Float64Array(fixed);
  kind[0] = K.root;
  index[0] = -1;
  const importSize = (i: number) => imp.end[i] - imp.start[i];
  // Functions.
  funcImports.forEach((entry, f) => {
    kind[funcBase + f] = K.import;
    index[funcBase + f] = f;
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
    index[v] = funcImports.length + i;
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
      index[base + j] = j;
      shallow[base + j] = importSize(entry);
      importNode[entry] = base + j;
    });
    for (let j = 0; j < spans.start.length; j++) {
      const v = base + importsOf.length + j;
      kind[v] = k;
      index[v] = importsOf.length + j;
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
  index[sectionBase] = -1;
  shallow[sectionBase] = 8;
  sectionName.push("header");
  m.sections.forEach((s, j) => {
    const v = sectionBase + 1 + j;
    const bytes = sectionByteLength(s);
    index[v] = -1;
    if (s.id === 0) {
      kind[v] = K.custom;
      shallow[v] = bytes;
      sectionName.push(s.name);
    } else {
      kind[v] = K.section;
      shallow[v] = bytes - (itemized.get(s.id) ?? 0);
      sectionName.push(`${s.name} section${itemized.has(s.id) ? " (headers)" : ""}`);
    }
  });
  for (let t = 0; t < space.tables; t++) {
    kind[contentsBase + t] = K["table-contents"];
    index[contentsBase + t] = t;
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
  if (linking) {
    for (const sym of linking.symbols) {
      if (sym.index === undefined || sym.flags & SymbolFlags.undefined) {
        if (sym.kind === SymbolKind.function && sym.name && sym.index !== undefined) {
          symbolName.set(funcBase + sym.index, sym.name);
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

  // Names, decoded once, looked up on demand.
  const names = readNames(m);
  const rawName = (v: number): string | undefined => {
    const k = kind[v];
    const i = index[v];
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
    index,
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
    rawName,
  };
}

/** The graph of `t`, with the virtual call_indirect nodes it adds (kind, index and name). */
export interface BuiltGraph {
  graph: Graph;
  kind: Uint8Array;
  index: Int32Array;
  shallow: Float64Array;
  extraName: string[];
}

/** Builds the reference graph of a node table (scans every function body once). */
export function buildGraph(t: NodeTable): BuiltGraph {
  const {
    m,
    layout,
    kind,
    index,
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
  } = t;
  const imp = layout.imports;
  const code = layout.code;
  const globalImports = space.globals - layout.globals.start.length;
  const edges = new EdgeList();
  for (const { node, table } of t.exportRoots) {
    edges.add(0, node, E.export);
    if (table >= 0) edges.add(node, contentsBase + table, E.table);
  }
  const start = readStart(m);
  if (start !== undefined && start < space.funcs) edges.add(0, funcBase + start, E.start);
  // Imported tables are shared with the host: everything in them is reachable.
  tableImports.forEach((_, t) => {
    edges.add(0, tableBase + t, E.export);
    edges.add(tableBase + t, contentsBase + t, E.table);
  });
  // Always kept: memories, active data, declarative element segments, sections.
  for (let j = 0; j < space.memories; j++) edges.add(0, memBase + j, E["always kept"]);
  for (let j = 0; j < layout.data.start.length; j++) {
    if (layout.data.active[j]) edges.add(0, dataBase + j, E["always kept"]);
  }
  for (let j = 0; j < sectionCount; j++) edges.add(0, sectionBase + j, E["always kept"]);
  // Globals and tables: initializers.
  const g = layout.globals;
  for (let j = 0; j < g.funcRefs.length; j += 2) {
    edges.add(
      globalBase + globalImports + g.funcRefs[j],
      funcBase + g.funcRefs[j + 1],
      E.initializer,
    );
  }
  for (let j = 0; j < g.globalRefs.length; j += 2) {
    edges.add(
      globalBase + globalImports + g.globalRefs[j],
      globalBase + g.globalRefs[j + 1],
      E.initializer,
    );
  }
  const tl = layout.tables;
  for (let j = 0; j < tl.funcRefs.length; j += 2) {
    edges.add(
      tableBase + tableImports.length + tl.funcRefs[j],
      funcBase + tl.funcRefs[j + 1],
      E.initializer,
    );
  }
  // Element segments: a table's contents hold its active segments and their functions; passive
  // segments hold their functions for table.init.
  const el = layout.elems;
  const funcType = (f: number) =>
    f < funcImports.length ? imp.type[funcImports[f]] : layout.funcTypes[f - funcImports.length];
  const canonical = canonicalTypes(m);
  const membersByTable: number[][] = Array.from({ length: space.tables }, () => []);
  for (let s = 0; s < el.start.length; s++) {
    const mode = el.mode[s];
    const seg = elemBase + s;
    if (mode === 2) {
      edges.add(0, seg, E["always kept"]);
      continue;
    }
    for (let j = el.funcStart[s]; j < el.funcStart[s + 1]; j++) {
      const f = el.funcs[j];
      if (f >= space.funcs) continue;
      if (mode === 1) edges.add(seg, funcBase + f, E.segment);
      else if (el.table[s] < space.tables) {
        membersByTable[el.table[s]].push(f);
        edges.add(contentsBase + el.table[s], funcBase + f, E["table element"]);
      }
    }
    if (mode === 0 && el.table[s] < space.tables) {
      edges.add(contentsBase + el.table[s], seg, E["element segment"]);
    }
  }
  for (let j = 0; j < el.globalRefs.length; j += 2) {
    edges.add(elemBase + el.globalRefs[j], globalBase + el.globalRefs[j + 1], E.initializer);
  }
  // call_indirect targets: one virtual node per (table, canonical type) that code calls through.
  let nodeCount = fixed;
  const extraKind: number[] = [];
  const extraIndex: number[] = [];
  const extraName: string[] = [];
  const indirect = new Map<number, number>();
  const typeCount = canonical.count || 1;
  const indirectNode = (table: number, type: number): number => {
    const canon = canonical.exact ? canonical.of[type] ?? -1 : -1;
    if (canon < 0) return contentsBase + table; // subtyping or unknown: the whole table
    const key = table * typeCount + canon;
    let v = indirect.get(key);
    if (v !== undefined) return v;
    v = nodeCount++;
    indirect.set(key, v);
    extraKind.push(K.indirect);
    extraIndex.push(table);
    extraName.push(`table[${table}] type ${type}`);
    edges.add(v, tableBase + table, E.table);
    for (let s = 0; s < el.start.length; s++) {
      if (el.mode[s] === 0 && el.table[s] === table) {
        edges.add(v, elemBase + s, E["element segment"]);
      }
    }
    for (const f of membersByTable[table]) {
      if (canonical.of[funcType(f)] === canon) edges.add(v, funcBase + f, E["table element"]);
    }
    return v;
  };
  // Function bodies.
  const seen = new Int32Array(fixed).fill(-1);
  const seenIndirect = new Int32Array(space.tables * typeCount).fill(-1);
  let from = 0;
  let self = -1;
  scanBodies(
    code.payload,
    code.bodyStart,
    code.bodyEnd,
    code.base,
    (i) => {
      self = i;
      from = funcBase + funcImports.length + i;
    },
    (ref, idx, extra) => {
      let to: number;
      let ek: number;
      switch (ref) {
        case Ref.call:
          to = idx < space.funcs ? funcBase + idx : -1;
          ek = E.call;
          break;
        case Ref.refFunc:
          to = idx < space.funcs ? funcBase + idx : -1;
          ek = E["ref.func"];
          break;
        case Ref.callIndirect:
          to = idx < space.tables ? indirectNode(idx, extra) : -1;
          ek = E.call_indirect;
          break;
        case Ref.global:
          to = idx < space.globals ? globalBase + idx : -1;
          ek = E.global;
          break;
        case Ref.table:
          to = idx < space.tables ? contentsBase + idx : -1;
          ek = E.table;
          break;
        case Ref.data:
          to = idx < layout.data.start.length ? dataBase + idx : -1;
          ek = E["data segment"];
          break;
        default:
          to = idx < el.start.length ? elemBase + idx : -1;
          ek = E["element segment"];
      }
      if (to < 0 || to === from) return;
      const marks = to < fixed ? seen : seenIndirect;
      const at = to < fixed ? to : to - fixed;
      if (marks[at] === self) return;
      marks[at] = self;
      edges.add(from, to, ek);
      if (ref === Ref.table) edges.add(from, tableBase + idx, E.table);
    },
  );
  for (const v of t.symbolRoots) edges.add(0, v, E.symbol);

  // Freeze: grow the node arrays by the virtual nodes.
  const kindAll = new Uint8Array(nodeCount);
  kindAll.set(kind);
  kindAll.set(extraKind, fixed);
  const indexAll = new Int32Array(nodeCount);
  indexAll.set(index);
  indexAll.set(extraIndex, fixed);
  const shallowAll = new Float64Array(nodeCount);
  shallowAll.set(shallow);
  return {
    graph: new Graph(nodeCount, edges),
    kind: kindAll,
    index: indexAll,
    shallow: shallowAll,
    extraName,
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
