/**
 * `analyzeSize`: every byte of a module attributed to an item (function, import, global, table,
 * memory, element or data segment, custom section, section overhead), and the graph of which
 * item keeps which alive, with shortest paths from the roots and retained sizes from its
 * dominator tree.
 * @module
 */
import { readNames } from "../wasm/custom.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { readLinking, SymbolFlags, SymbolKind } from "../wasm/linking.ts";
import { sectionByteLength, SectionId, WasmModule } from "../wasm/module.ts";
import { readExports, readStart, readTypes } from "../wasm/types.ts";
import { EdgeList, Graph, retainedSizes } from "./graph.ts";
import { readLayout } from "./layout.ts";
import { type Demangle, displayName, namePath } from "./names.ts";
import { Ref, scanBodies } from "./scan.ts";

/** Kinds of items, by their code in {@linkcode SizeAnalysis.kind}. */
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

const K = Object.fromEntries(ITEM_KINDS.map((k, i) => [k, i])) as Record<ItemKind, number>;

/** Why an edge exists, by its code in the graph. */
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

/** One item as the views report it. */
export interface SizeItem {
  /** Node id in the graph (stable for one analysis). */
  id: number;
  /** Kind of item. */
  kind: ItemKind;
  /** Index in its own index space (function index, data segment index, ...), -1 for sections. */
  index: number;
  /** Readable name: demangled, without build hashes. */
  name: string;
  /** The name as the module spells it (name section, symbol, export or import), if any. */
  rawName?: string;
  /** Crate, Go package or C++ namespace ("" when unknown). */
  crate: string;
  /** Module path below the crate. */
  module: string;
  /** The item's own bytes. */
  bytes: number;
  /** `bytes` as a share of the file, 0..1. */
  share: number;
  /** Bytes that would go if this item went (itself and everything only it keeps alive). */
  retained: number;
  /** False for items no root reaches (garbage). */
  reachable: boolean;
}

/** One step of a path from the roots: the item, and how the previous step reaches it. */
export interface PathStep {
  item: SizeItem;
  /** How the previous step keeps this one (`call`, `export "main"`, ...); "" for the first. */
  via: string;
}

/** Options of {@linkcode analyzeSize}. */
export interface AnalyzeOptions {
  /** File name for messages and reports. */
  file?: string;
  /** Demangles mangled names (e.g. the one `loadDemangler()` returns); names stay as-is without. */
  demangle?: Demangle;
}

/**
 * The size analysis of one module: per-item sizes on typed arrays, the reference graph, and
 * (computed on first use) shortest paths and dominators.
 */
export class SizeAnalysis {
  /** File name, when known. */
  readonly file?: string;
  /** The module analyzed. */
  readonly module: WasmModule;
  /** Size of the whole file. */
  readonly totalBytes: number;
  /** True for relocatable objects. */
  readonly relocatable: boolean;
  /** Kind code of each node (index into {@linkcode ITEM_KINDS}). */
  readonly kind: Uint8Array;
  /** Index of each node in its own index space. */
  readonly index: Int32Array;
  /** Own bytes of each node. */
  readonly shallow: Float64Array;
  /** The reference graph; node 0 is the root. */
  readonly graph: Graph;
  readonly #rawName: (node: number) => string | undefined;
  readonly #exportOf: Map<number, string>;
  readonly #demangle?: Demangle;
  #bfs?: ReturnType<Graph["bfs"]>;
  #retained?: Float64Array;
  #idom?: Int32Array;

  /** @internal Use {@linkcode analyzeSize}. */
  constructor(parts: {
    file?: string;
    module: WasmModule;
    totalBytes: number;
    relocatable: boolean;
    kind: Uint8Array;
    index: Int32Array;
    shallow: Float64Array;
    graph: Graph;
    rawName: (node: number) => string | undefined;
    exportOf: Map<number, string>;
    demangle?: Demangle;
  }) {
    this.file = parts.file;
    this.module = parts.module;
    this.totalBytes = parts.totalBytes;
    this.relocatable = parts.relocatable;
    this.kind = parts.kind;
    this.index = parts.index;
    this.shallow = parts.shallow;
    this.graph = parts.graph;
    this.#rawName = parts.rawName;
    this.#exportOf = parts.exportOf;
    this.#demangle = parts.demangle;
  }

  /** Number of nodes (items, the root and virtual table nodes). */
  get nodeCount(): number {
    return this.kind.length;
  }

  /** Shortest-path tree from the roots (computed once). */
  get paths(): ReturnType<Graph["bfs"]> {
    return this.#bfs ??= this.graph.bfs();
  }

  /** Retained size of every node (computed once, from the dominator tree). */
  get retained(): Float64Array {
    if (!this.#retained) {
      const { idom, order } = this.graph.dominators();
      this.#idom = idom;
      this.#retained = retainedSizes(this.shallow, idom, order);
    }
    return this.#retained;
  }

  /** Immediate dominator of every node (-1 for the root and unreachable nodes). */
  get idom(): Int32Array {
    void this.retained;
    return this.#idom!;
  }

  /** True when a root reaches `node`. */
  isReachable(node: number): boolean {
    return this.paths.depth[node] >= 0;
  }

  /** The name the module gives `node`, if any. */
  rawName(node: number): string | undefined {
    return this.#rawName(node);
  }

  /** The readable name of `node`. */
  name(node: number): string {
    const kind = ITEM_KINDS[this.kind[node]];
    const raw = this.#rawName(node);
    const i = this.index[node];
    switch (kind) {
      case "root":
        return "<roots>";
      case "custom":
        return `custom section "${raw}"`;
      case "section":
        return raw!;
      case "table-contents":
        return `table[${i}] elements`;
      case "indirect":
        return `call_indirect targets ${raw}`;
      case "import":
        return raw ? `import ${raw}` : `func[${i}]`;
      case "function":
        return raw ? displayName(raw, this.#demangle) : `func[${i}]`;
      case "element":
        return raw ?? `elem[${i}]`;
      case "data":
        return raw ?? `data[${i}]`;
      default:
        return raw ?? `${kind}[${i}]`;
    }
  }

  /** The item view of `node` (with retained size only when `withRetained`). */
  item(node: number, withRetained = true): SizeItem {
    const kind = ITEM_KINDS[this.kind[node]];
    const name = this.name(node);
    const raw = this.#rawName(node);
    const path = kind === "function" && raw ? namePath(name) : { crate: "", module: "" };
    const bytes = this.shallow[node];
    return {
      id: node,
      kind,
      index: this.index[node],
      name,
      rawName: kind === "function" || kind === "import" || kind === "global" ? raw : undefined,
      crate: path.crate,
      module: path.module,
      bytes,
      share: bytes / this.totalBytes,
      retained: withRetained ? this.retained[node] : bytes,
      reachable: this.isReachable(node),
    };
  }

  /** The ids of the real items (no root, no virtual table nodes). */
  itemIds(): number[] {
    const out: number[] = [];
    for (let v = 1; v < this.kind.length; v++) {
      if (this.kind[v] !== K["table-contents"] && this.kind[v] !== K.indirect) out.push(v);
    }
    return out;
  }

  /** How `from` keeps `to` alive, for path output. */
  edgeLabel(from: number, to: number, kind: number): string {
    const k = EDGE_KINDS[kind];
    if (k === "export") return `export "${this.#exportOf.get(to) ?? "?"}"`;
    if (k === "symbol") return "linker symbol";
    void from;
    return k;
  }
}

/** Everything analyzeSize collects per module kind index space. */
interface Spaces {
  funcs: number;
  globals: number;
  tables: number;
  memories: number;
}

/**
 * Analyzes the sizes of a module or relocatable object.
 *
 * @example The largest function of the demo module
 * ```ts
 * import { analyzeSize, topItems } from "./mod.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const analysis = analyzeSize(bytes);
 * const [first] = topItems(analysis, { limit: 1, kinds: ["function"] });
 * assert.ok(first.bytes > 0 && first.name.length > 0);
 * ```
 */
export function analyzeSize(
  input: Uint8Array | WasmModule,
  options: AnalyzeOptions = {},
): SizeAnalysis {
  const m = input instanceof WasmModule ? input : WasmModule.parse(input, { file: options.file });
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

  // ---- Edges ----
  const edges = new EdgeList();
  const exportOf = new Map<number, string>();
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
    edges.add(0, v, E.export);
    if (k === 4) edges.add(v, contentsBase + e.index, E.table);
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
      globalBase + globalImports.length + g.funcRefs[j],
      funcBase + g.funcRefs[j + 1],
      E.initializer,
    );
  }
  for (let j = 0; j < g.globalRefs.length; j += 2) {
    edges.add(
      globalBase + globalImports.length + g.globalRefs[j],
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
  // Relocatable objects: every defined symbol other modules can see is a root.
  const linking = m.isRelocatable ? readLinking(m) : undefined;
  const symbolName = new Map<number, string>();
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
        edges.add(0, v, E.symbol);
      }
    }
    for (const init of linking.initFuncs) {
      const sym = linking.symbols[init.symbol];
      if (sym?.kind === SymbolKind.function && sym.index !== undefined) {
        edges.add(0, funcBase + sym.index, E.symbol);
      }
    }
    linking.segments.forEach((s, j) => {
      const v = dataBase + j;
      if (j < layout.data.start.length && !symbolName.has(v)) symbolName.set(v, s.name);
    });
  }

  // Freeze: grow the node arrays by the virtual nodes.
  const kindAll = new Uint8Array(nodeCount);
  kindAll.set(kind);
  kindAll.set(extraKind, fixed);
  const indexAll = new Int32Array(nodeCount);
  indexAll.set(index);
  indexAll.set(extraIndex, fixed);
  const shallowAll = new Float64Array(nodeCount);
  shallowAll.set(shallow);
  const graph = new Graph(nodeCount, edges);

  // Names, decoded once, looked up on demand.
  const names = readNames(m);
  const rawName = (v: number): string | undefined => {
    const k = kindAll[v];
    const i = indexAll[v];
    if (v >= fixed) return extraName[v - fixed];
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
  return new SizeAnalysis({
    file: options.file ?? m.file,
    module: m,
    totalBytes: m.source.length,
    relocatable: m.isRelocatable,
    kind: kindAll,
    index: indexAll,
    shallow: shallowAll,
    graph,
    rawName,
    exportOf,
    demangle: options.demangle,
  });
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
