/**
 * The reference graph of a size analysis: exports, start, imported tables, initializers, element
 * segments, symbols and relocations of objects, and one scan of every function body.
 * @module
 */
import { readRelocs, RelocType } from "../wasm/linking.ts";
import { SectionId } from "../wasm/module.ts";
import { readStart } from "../wasm/types.ts";
import { EdgeList, Graph } from "./graph.ts";
import { E, K, type NodeTable } from "./_nodes.ts";
import { Ref, scanBodies } from "./scan.ts";

/** The graph of `t`, with the virtual call_indirect nodes it adds (kind, index and name). */
export interface BuiltGraph {
  graph: Graph;
  kind: Uint8Array;
  shallow: Float64Array;
  /** Index (the table) and name of each virtual node, from node `fixed` on. */
  extraIndex: number[];
  extraName: string[];
}

/** Builds the reference graph of a node table (scans every function body once). */
export function buildGraph(t: NodeTable): BuiltGraph {
  const {
    m,
    layout,
    kind,
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
    edges.add(0, tableBase + t, E.imported);
    edges.add(tableBase + t, contentsBase + t, E.table);
  });
  // Always kept: memories, active data, declarative element segments, sections.
  // Runs of consecutive nodes go in as ranges (one edge-list entry for all the data segments).
  edges.addRange(0, memBase, memBase + space.memories, E["always kept"]);
  // In objects, data is kept by symbols and relocations (the linker's --gc-sections).
  const active = m.isRelocatable ? undefined : layout.data.active;
  for (let j = 0; active && j < active.length;) {
    if (!active[j]) {
      j++;
      continue;
    }
    let k = j + 1;
    while (k < active.length && active[k]) k++;
    edges.addRange(0, dataBase + j, dataBase + k, E["always kept"]);
    j = k;
  }
  edges.addRange(0, sectionBase, sectionBase + sectionCount, E["always kept"]);
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
  const canonical = t.canonical;
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
  // Marks against repeated edges from one body: an array over the nodes below the data segments
  // and above them (sections, table contents), a map for the data segments (memory.init and
  // data.drop are rare), so no array over the 100k data segments of Go modules.
  const seen = new Int32Array(dataBase + fixed - sectionBase).fill(-1);
  const seenData = new Map<number, number>();
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
      if (to >= dataBase && to < sectionBase) {
        if (seenData.get(to) === self) return;
        seenData.set(to, self);
      } else {
        const marks = to < fixed ? seen : seenIndirect;
        const at = to < dataBase ? to : to < fixed ? to - sectionBase + dataBase : to - fixed;
        if (marks[at] === self) return;
        marks[at] = self;
      }
      edges.add(from, to, ek);
      if (ref === Ref.table) edges.add(from, tableBase + idx, E.table);
    },
  );
  for (const v of t.symbolRoots) edges.add(0, v, E.symbol);
  if (m.isRelocatable) relocationEdges(t, edges);

  // Freeze: grow the node arrays by the virtual nodes.
  // The node arrays have room for the virtual nodes (see buildNodes).
  const grow = <T extends Uint8Array | Float64Array>(a: T) =>
    new (a.constructor as new (b: ArrayBuffer, o: number, n: number) => T)(
      a.buffer as ArrayBuffer,
      a.byteOffset,
      nodeCount,
    );
  const kindAll = grow(kind);
  kindAll.set(extraKind, fixed);
  const shallowAll = grow(shallow);
  return {
    graph: new Graph(nodeCount, edges),
    kind: kindAll,
    shallow: shallowAll,
    extraIndex,
    extraName,
  };
}

/** Relocation types whose symbol is a function address (a table slot) or a data address. */
const POINTER_RELOCS = new Set<number>([
  RelocType.TABLE_INDEX_SLEB,
  RelocType.TABLE_INDEX_I32,
  RelocType.TABLE_INDEX_REL_SLEB,
  RelocType.TABLE_INDEX_SLEB64,
  RelocType.TABLE_INDEX_I64,
  RelocType.TABLE_INDEX_REL_SLEB64,
  RelocType.FUNCTION_INDEX_I32,
]);
const ADDRESS_RELOCS = new Set<number>([
  RelocType.MEMORY_ADDR_LEB,
  RelocType.MEMORY_ADDR_SLEB,
  RelocType.MEMORY_ADDR_I32,
  RelocType.MEMORY_ADDR_REL_SLEB,
  RelocType.MEMORY_ADDR_LEB64,
  RelocType.MEMORY_ADDR_SLEB64,
  RelocType.MEMORY_ADDR_I64,
  RelocType.MEMORY_ADDR_REL_SLEB64,
  RelocType.MEMORY_ADDR_TLS_SLEB,
  RelocType.MEMORY_ADDR_LOCREL_I32,
  RelocType.MEMORY_ADDR_TLS_SLEB64,
]);

/** The last index `i` with `starts[i] <= x` (-1 when none). */
function containing(starts: Uint32Array, x: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Relocatable objects: what code and data point at goes through relocations, not instructions.
 * A function pointer is a TABLE_INDEX relocation (vtables in data, `i32.const` in code), a data
 * address a MEMORY_ADDR one. (Call and global relocations repeat what the body scan found.)
 */
function relocationEdges(t: NodeTable, edges: EdgeList): void {
  const { m, layout, symbolNodes, funcBase, funcImports, dataBase } = t;
  const code = m.section(SectionId.code);
  const data = m.section(SectionId.data);
  for (const s of m.customSections()) {
    if (!s.name.startsWith("reloc.")) continue;
    const relocs = readRelocs(m, s);
    const target = m.sections[relocs.target];
    if (target !== code && target !== data) continue; // debug info points at everything
    for (const r of relocs.entries) {
      const pointer = POINTER_RELOCS.has(r.type);
      if (!pointer && !ADDRESS_RELOCS.has(r.type)) continue;
      const to = r.index < symbolNodes.length ? symbolNodes[r.index] : -1;
      if (to < 0) continue;
      let from: number;
      if (target === code) {
        const i = containing(layout.code.bodyStart, r.offset);
        from = i < 0 ? -1 : funcBase + funcImports.length + i;
      } else {
        const i = containing(layout.data.start, target.payloadOffset + r.offset);
        from = i < 0 ? -1 : dataBase + i;
      }
      if (from >= 0 && from !== to) {
        edges.add(from, to, pointer ? E["function pointer"] : E.address);
      }
    }
  }
}
