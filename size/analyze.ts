/**
 * `analyzeSize`: every byte of a module attributed to an item (function, import, global, table,
 * memory, element or data segment, custom section, section overhead), and the graph of which
 * item keeps which alive, with shortest paths from the roots and retained sizes from its
 * dominator tree. The graph is built on first use: the largest items need only the sizes.
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { buildNodes, EDGE_KINDS, ITEM_KINDS, type ItemKind, K, type NodeTable } from "./_nodes.ts";
import { buildGraph, type BuiltGraph } from "./_graph_build.ts";
import { dominatorTree, type Graph, retainedOfTree } from "./graph.ts";
import { type Demangle, displayName, namePath } from "./names.ts";

export { EDGE_KINDS, type EdgeKind, ITEM_KINDS, type ItemKind } from "./_nodes.ts";

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
  retained?: number;
  /** False for items no root reaches (garbage); absent when the graph was not needed. */
  reachable?: boolean;
}

/** One step of a path from the roots: the item, and how the previous step reaches it. */
export interface PathStep {
  /** The item at this step. */
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
  readonly #nodes: NodeTable;
  readonly #demangle?: Demangle;
  #built?: BuiltGraph;
  #bfs?: ReturnType<Graph["bfs"]>;
  #retained?: Float64Array;
  #idom?: Int32Array;
  #index?: Int32Array;

  /** @internal Use {@linkcode analyzeSize}. */
  constructor(nodes: NodeTable, options: AnalyzeOptions) {
    this.#nodes = nodes;
    this.file = options.file ?? nodes.m.file;
    this.module = nodes.m;
    this.totalBytes = nodes.m.source.length;
    this.relocatable = nodes.m.isRelocatable;
    this.#demangle = options.demangle;
  }

  /** True once the reference graph was built (it is built on first use). */
  get hasGraph(): boolean {
    return this.#built !== undefined;
  }

  /** The reference graph; node 0 is the root. Built on first use (scans every body once). */
  get graph(): Graph {
    if (!this.#built) {
      try {
        this.#built = buildGraph(this.#nodes);
      } catch (e) {
        // The body scan runs late: name the file, as the eager readers do.
        if (e instanceof WasmParseError) e.file ??= this.file;
        throw e;
      }
    }
    return this.#built.graph;
  }

  /** Kind code of each node (index into {@linkcode ITEM_KINDS}). */
  get kind(): Uint8Array {
    return this.#built?.kind ?? this.#nodes.kind;
  }

  /** Index of each node in its own index space (made on first use; see `indexOf`). */
  get index(): Int32Array {
    const n = this.nodeCount;
    if (this.#index?.length !== n) {
      this.#index = new Int32Array(n);
      for (let v = 0; v < n; v++) this.#index[v] = this.indexOf(v);
    }
    return this.#index;
  }

  /** Index of `node` in its own index space (-1 for the root and sections). */
  indexOf(node: number): number {
    const fixed = this.#nodes.fixed;
    return node >= fixed ? this.#built!.extraIndex[node - fixed] : this.#nodes.indexOf(node);
  }

  /** Own bytes of each node. */
  get shallow(): Float64Array {
    return this.#built?.shallow ?? this.#nodes.shallow;
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
      const graph = this.graph;
      const { idom, inner } = dominatorTree(graph);
      this.#idom = idom;
      this.#retained = retainedOfTree(graph, this.shallow, idom, inner);
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
    // Either tree answers; the retained views need only the dominator tree.
    if (!this.#bfs && this.#idom) return node === 0 || this.#idom[node] >= 0;
    return this.paths.depth[node] >= 0;
  }

  /** The name the module gives `node`, if any. */
  rawName(node: number): string | undefined {
    const fixed = this.#nodes.fixed;
    return node >= fixed ? this.#built?.extraName[node - fixed] : this.#nodes.rawName(node);
  }

  /** The readable name of `node`. */
  name(node: number): string {
    const kind = ITEM_KINDS[this.kind[node]];
    const raw = this.rawName(node);
    const i = this.indexOf(node);
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
    const raw = this.rawName(node);
    const path = kind === "function" && raw ? namePath(name) : { crate: "", module: "" };
    const bytes = this.shallow[node];
    return {
      id: node,
      kind,
      index: this.indexOf(node),
      name,
      rawName: kind === "function" || kind === "import" || kind === "global" ? raw : undefined,
      crate: path.crate,
      module: path.module,
      bytes,
      share: bytes / this.totalBytes,
      retained: withRetained ? this.retained[node] : undefined,
      reachable: withRetained || this.hasGraph ? this.isReachable(node) : undefined,
    };
  }

  /** The ids of the real items (no root, no virtual table nodes). */
  itemIds(): number[] {
    const out: number[] = [];
    for (let v = 1; v < this.#nodes.fixed; v++) {
      if (this.kind[v] !== K["table-contents"] && this.kind[v] !== K.indirect) out.push(v);
    }
    return out;
  }

  /** How `from` keeps `to` alive, for path output. */
  edgeLabel(from: number, to: number, kind: number): string {
    const k = EDGE_KINDS[kind];
    if (k === "export") return `export "${this.#nodes.exportOf.get(to) ?? "?"}"`;
    if (k === "symbol") return "linker symbol";
    void from;
    return k;
  }
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
  return new SizeAnalysis(buildNodes(m), options);
}
