/**
 * A directed graph on typed arrays (compressed sparse rows) with the three algorithms the size
 * views need: breadth-first shortest paths from the root, the dominator tree (SEMI-NCA:
 * Lengauer–Tarjan's semidominators with path compression, then one walk up the partial dominator
 * tree per node; no buckets, few node-sized arrays), and retained sizes from it. Node 0 is the
 * root.
 * @module
 */

const CHUNK = 1 << 13;
/** Kind bit of an entry that stands for a range of targets (see {@linkcode EdgeList.addRange}). */
const RANGE = 0x80;

/**
 * Collects edges before the graph is frozen, in fixed-size chunks (growing never copies, so the
 * peak memory stays at the edges plus one partly filled chunk). A run of edges from one node to
 * consecutive nodes (a module's data segments, all kept by the root) takes one entry.
 */
export class EdgeList {
  /** Sources of the entries, chunk by chunk. */
  readonly from: Int32Array[] = [];
  /** Targets of the entries (the first target of a range). */
  readonly to: Int32Array[] = [];
  /** Kinds of the entries (labels the graph keeps); bit 0x80 marks a range. */
  readonly kind: Uint8Array[] = [];
  /** Number of targets of each range entry, in entry order. */
  readonly spans: number[] = [];
  /** Number of edges. */
  length = 0;
  /** Number of entries in the chunks. */
  entries = 0;

  /** Adds the edge `from → to` labelled `kind`. */
  add(from: number, to: number, kind: number): void {
    const at = this.entries & (CHUNK - 1);
    if (at === 0) {
      this.from.push(new Int32Array(CHUNK));
      this.to.push(new Int32Array(CHUNK));
      this.kind.push(new Uint8Array(CHUNK));
    }
    const c = this.from.length - 1;
    this.from[c][at] = from;
    this.to[c][at] = to;
    this.kind[c][at] = kind;
    this.entries++;
    this.length++;
  }

  /** Adds the edges `from → to`, `from → to + 1`, ... `from → end - 1`, in that order. */
  addRange(from: number, to: number, end: number, kind: number): void {
    if (end - to <= 1) {
      if (end > to) this.add(from, to, kind);
      return;
    }
    this.add(from, to, kind | RANGE);
    this.spans.push(end - to);
    this.length += end - to - 1;
  }
}

/** A frozen graph: successors and predecessors of each node in CSR form. */
export class Graph {
  /** Where the successors of v start in `succ` (`succStart[v + 1]` is where they end). */
  readonly succStart: Uint32Array;
  /** Successors of every node, grouped by node. */
  readonly succ: Int32Array;
  /** Edge kind of each entry of `succ`. */
  readonly succKind: Uint8Array;
  #pred?: { predStart: Uint32Array; pred: Int32Array; predKind: Uint8Array };
  /** Number of nodes. */
  readonly size: number;

  /**
   * Freezes `edges` over nodes `0 .. size - 1` (and empties `edges`).
   *
   * @example Dominators of a diamond
   * ```ts
   * import { EdgeList, Graph } from "./mod.ts";
   * import assert from "node:assert";
   * const e = new EdgeList();
   * for (const [a, b] of [[0, 1], [0, 2], [1, 3], [2, 3]]) e.add(a, b, 0);
   * assert.deepStrictEqual([...new Graph(4, e).dominators().idom], [-1, 0, 0, 0]);
   * ```
   */
  constructor(size: number, edges: EdgeList) {
    this.size = size;
    const m = edges.length;
    const entries = edges.entries;
    // Counting sort without a cursor array (one less node-sized array at the peak): after the
    // prefix sums `start[v + 1]` is where v's range ends; placing the edges back to front moves
    // it down to where v's range starts, and a shift by one node gives the usual row starts.
    const start = new Uint32Array(size + 1);
    for (let c = 0, left = entries, r = 0; c < edges.from.length; c++, left -= CHUNK) {
      const from = edges.from[c];
      const kind = edges.kind[c];
      for (let i = 0, n = Math.min(CHUNK, left); i < n; i++) {
        start[from[i] + 1] += kind[i] & RANGE ? edges.spans[r++] : 1;
      }
    }
    for (let v = 0; v < size; v++) start[v + 1] += start[v];
    const succ = new Int32Array(m);
    const succKind = new Uint8Array(m);
    for (let c = edges.from.length - 1, r = edges.spans.length; c >= 0; c--) {
      const from = edges.from[c];
      const to = edges.to[c];
      const kind = edges.kind[c];
      for (let i = Math.min(CHUNK, entries - c * CHUNK) - 1; i >= 0; i--) {
        const k = kind[i];
        if (k & RANGE) {
          for (let j = edges.spans[--r] - 1; j >= 0; j--) {
            const at = --start[from[i] + 1];
            succ[at] = to[i] + j;
            succKind[at] = k & ~RANGE;
          }
        } else {
          const at = --start[from[i] + 1];
          succ[at] = to[i];
          succKind[at] = k;
        }
      }
    }
    for (let v = 0; v < size; v++) start[v] = start[v + 1];
    start[size] = m;
    this.succStart = start;
    this.succ = succ;
    this.succKind = succKind;
    // The edge list is consumed: its chunks can go (the predecessors are built from the
    // successors, on first use).
    edges.from.length =
      edges.to.length =
      edges.kind.length =
      edges.spans.length =
      edges.length =
      edges.entries =
        0;
  }

  /** Where the predecessors of v start in `pred` (the predecessors are built on first use). */
  get predStart(): Uint32Array {
    return this.#preds().predStart;
  }

  /** Predecessors of every node, grouped by node. */
  get pred(): Int32Array {
    return this.#preds().pred;
  }

  /** Edge kind of each entry of `pred`. */
  get predKind(): Uint8Array {
    return this.#preds().predKind;
  }

  /** The predecessor lists, from the successors (the dominators need none of them). */
  #preds(): { predStart: Uint32Array; pred: Int32Array; predKind: Uint8Array } {
    if (this.#pred) return this.#pred;
    const { size, succStart, succ, succKind } = this;
    const m = succ.length;
    const predStart = new Uint32Array(size + 1);
    for (let e = 0; e < m; e++) predStart[succ[e] + 1]++;
    for (let v = 0; v < size; v++) predStart[v + 1] += predStart[v];
    const pred = new Int32Array(m);
    const predKind = new Uint8Array(m);
    // Back to front, as in the constructor: predStart[w + 1] runs down from the end of w's range
    // to its start.
    for (let v = size - 1; v >= 0; v--) {
      for (let e = succStart[v + 1] - 1; e >= succStart[v]; e--) {
        const at = --predStart[succ[e] + 1];
        pred[at] = v;
        predKind[at] = succKind[e];
      }
    }
    for (let v = 0; v < size; v++) predStart[v] = predStart[v + 1];
    predStart[size] = m;
    return this.#pred = { predStart, pred, predKind };
  }

  /** Number of edges. */
  get edgeCount(): number {
    return this.succ.length;
  }

  /**
   * Breadth-first search from node 0: `parent[v]` is v's predecessor on a shortest path (-1 for
   * the root and unreachable nodes), `parentKind[v]` the kind of that edge, `depth[v]` its length
   * (-1 when unreachable).
   */
  bfs(): { parent: Int32Array; parentKind: Uint8Array; depth: Int32Array } {
    const n = this.size;
    const parent = new Int32Array(n).fill(-1);
    const parentKind = new Uint8Array(n);
    const depth = new Int32Array(n).fill(-1);
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    depth[0] = 0;
    while (head < tail) {
      const v = queue[head++];
      for (let e = this.succStart[v]; e < this.succStart[v + 1]; e++) {
        const w = this.succ[e];
        if (depth[w] >= 0) continue;
        depth[w] = depth[v] + 1;
        parent[w] = v;
        parentKind[w] = this.succKind[e];
        queue[tail++] = w;
      }
    }
    return { parent, parentKind, depth };
  }

  /**
   * Immediate dominators from node 0 (semidominators as in Lengauer–Tarjan, simple version with
   * path compression; immediate dominators from them as in SEMI-NCA).
   * `idom[v]` is -1 for the root and for unreachable nodes. `order` lists the reachable nodes so
   * that every node comes after its immediate dominator: the nodes with successors in
   * depth-first preorder, then the reachable leaves.
   */
  dominators(): { idom: Int32Array; order: Int32Array } {
    const { idom, inner } = dominatorTree(this);
    let leaves = 0;
    for (let v = 1; v < this.size; v++) if (idom[v] >= 0 && this.#leaf(v)) leaves++;
    const order = new Int32Array(inner.length + leaves);
    order.set(inner);
    let at = inner.length;
    for (let v = 1; v < this.size; v++) if (idom[v] >= 0 && this.#leaf(v)) order[at++] = v;
    return { idom, order };
  }

  #leaf(v: number): boolean {
    return this.succStart[v] === this.succStart[v + 1];
  }
}

/**
 * The dominator tree of `g`: `idom` as in {@linkcode Graph.dominators}, and `inner`, the reachable
 * nodes that have successors, in depth-first preorder (the root first).
 *
 * Leaves (nodes without successors, most of a module's data segments) take no part in the
 * Lengauer–Tarjan phase, so its arrays are sized by the other nodes: a leaf lies on no path to
 * another node, so it dominates nothing, and its immediate dominator is the nearest common
 * dominator of its reachable predecessors.
 */
export function dominatorTree(g: Graph): { idom: Int32Array; inner: Int32Array } {
  const n = g.size;
  const { succStart, succ } = g;
  const leaf = (v: number) => v !== 0 && succStart[v] === succStart[v + 1];
  let inner = 0;
  for (let v = 0; v < n; v++) if (!leaf(v)) inner++;
  // dfn[v]: preorder number + 1 (0 = not visited, and for every leaf). Everything else is indexed
  // by number, and sized by the nodes with successors.
  const dfn = new Int32Array(n);
  const vertex = new Int32Array(inner);
  const parent = new Int32Array(inner);
  // Iterative DFS: a stack of numbers and the next edge of each number.
  const stack = new Int32Array(inner);
  const cursor = new Int32Array(inner);
  let count = 0;
  let sp = 0;
  if (n > 0) {
    dfn[0] = ++count;
    vertex[0] = 0;
    stack[sp++] = 0;
    cursor[0] = succStart[0];
  }
  while (sp > 0) {
    const i = stack[sp - 1];
    const v = vertex[i];
    const e = cursor[i];
    if (e < succStart[v + 1]) {
      cursor[i] = e + 1;
      const w = succ[e];
      if (dfn[w] === 0 && !leaf(w)) {
        dfn[w] = ++count;
        vertex[count - 1] = w;
        parent[count - 1] = i;
        cursor[count - 1] = succStart[w];
        stack[sp++] = count - 1;
      }
    } else sp--;
  }
  const semi = new Int32Array(count);
  const label = new Int32Array(count);
  // The DFS's stack and cursors are free now: they become the compression path and the
  // forest links.
  const ancestor = cursor.fill(-1);
  for (let i = 0; i < count; i++) {
    semi[i] = i;
    label[i] = i;
  }
  const path = stack;
  const evaluate = (v: number): number => {
    if (ancestor[v] < 0) return v;
    // Collect the ancestor chain up to the forest root, then compress it top-down.
    let len = 0;
    let u = v;
    while (ancestor[ancestor[u]] >= 0) {
      path[len++] = u;
      u = ancestor[u];
    }
    while (len > 0) {
      const x = path[--len];
      const a = ancestor[x];
      if (semi[label[a]] < semi[label[x]]) label[x] = label[a];
      ancestor[x] = ancestor[a];
    }
    return label[v];
  };
  // Predecessors of the numbered nodes, by number, from the successors: only the edges between
  // numbered nodes (the full predecessor lists are not needed, nor built).
  const predStart = new Int32Array(count + 1);
  for (let u = 0; u < count; u++) {
    const v = vertex[u];
    for (let e = succStart[v]; e < succStart[v + 1]; e++) {
      const d = dfn[succ[e]];
      if (d > 0) predStart[d]++;
    }
  }
  for (let i = 0; i < count; i++) predStart[i + 1] += predStart[i];
  const pred = new Int32Array(predStart[count]);
  for (let u = count - 1; u >= 0; u--) {
    const v = vertex[u];
    for (let e = succStart[v + 1] - 1; e >= succStart[v]; e--) {
      const d = dfn[succ[e]];
      if (d > 0) pred[--predStart[d]] = u;
    }
  }
  // Each predStart[i + 1] moved down to where i's range starts: shift by one.
  for (let i = 0; i < count; i++) predStart[i] = predStart[i + 1];
  predStart[count] = pred.length;
  for (let i = count - 1; i > 0; i--) {
    for (let e = predStart[i]; e < predStart[i + 1]; e++) {
      const u = evaluate(pred[e]);
      if (semi[u] < semi[i]) semi[i] = semi[u];
    }
    ancestor[i] = parent[i];
  }
  // Immediate dominators from the semidominators (SEMI-NCA): the nearest ancestor of i's
  // parent in the dominator tree numbered at most semi[i]. Done in preorder, in place over
  // `parent` (parent[i] is read only at step i, and idomNum[x] for x < i is final by then).
  const idomNum = parent;
  for (let i = 1; i < count; i++) {
    let x = idomNum[i];
    while (x > semi[i]) x = idomNum[x];
    idomNum[i] = x;
  }
  // Leaves: the nearest common ancestor of their reachable predecessors in the dominator tree
  // (a dominator is numbered before the nodes it dominates), gathered over the successors of
  // the numbered nodes and kept as -2 - number in dfn.
  for (let u = 0; u < count; u++) {
    const v = vertex[u];
    for (let e = succStart[v]; e < succStart[v + 1]; e++) {
      const w = succ[e];
      const d = dfn[w];
      if (d > 0) continue; // not a leaf
      let x = d < 0 ? -2 - d : u;
      let y = u;
      while (x !== y) {
        if (x > y) x = idomNum[x];
        else y = idomNum[y];
      }
      dfn[w] = -2 - x;
    }
  }
  const idom = dfn;
  for (let v = 0; v < n; v++) {
    const d = dfn[v];
    idom[v] = d > 1 ? vertex[idomNum[d - 1]] : d < 0 ? vertex[-2 - d] : -1;
  }
  return { idom, inner: vertex.subarray(0, count) };
}

/**
 * Retained sizes: each reachable node's own size plus the sizes of every node it dominates
 * (what would go if it went). Unreachable nodes retain only themselves.
 */
export function retainedSizes(
  shallow: Float64Array,
  idom: Int32Array,
  order: Int32Array,
): Float64Array {
  const retained = shallow.slice();
  for (let i = order.length - 1; i > 0; i--) {
    const v = order[i];
    retained[idom[v]] += retained[v];
  }
  return retained;
}

/**
 * Retained sizes from {@linkcode dominatorTree}: the leaves first (each retains only itself),
 * then the other nodes bottom-up in reverse preorder. Same result as {@linkcode retainedSizes}.
 */
export function retainedOfTree(
  g: Graph,
  shallow: Float64Array,
  idom: Int32Array,
  inner: Int32Array,
): Float64Array {
  const retained = shallow.slice();
  const { succStart } = g;
  for (let v = 1; v < g.size; v++) {
    if (idom[v] >= 0 && succStart[v] === succStart[v + 1]) retained[idom[v]] += shallow[v];
  }
  for (let i = inner.length - 1; i > 0; i--) {
    const v = inner[i];
    retained[idom[v]] += retained[v];
  }
  return retained;
}
