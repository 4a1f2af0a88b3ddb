/**
 * A directed graph on typed arrays (compressed sparse rows) with the three algorithms the size
 * views need: breadth-first shortest paths from the root, the dominator tree (Lengauer–Tarjan
 * with path compression, O(m log n)), and retained sizes from it. Node 0 is the root.
 * @module
 */

/** Collects edges before the graph is frozen. */
export class EdgeList {
  from = new Int32Array(1024);
  to = new Int32Array(1024);
  kind = new Uint8Array(1024);
  length = 0;

  /** Adds the edge `from → to` labelled `kind`. */
  add(from: number, to: number, kind: number): void {
    if (this.length === this.from.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.from = grow(this.from);
      this.to = grow(this.to);
      this.kind = grow(this.kind);
    }
    this.from[this.length] = from;
    this.to[this.length] = to;
    this.kind[this.length++] = kind;
  }
}

/** A frozen graph: successors and predecessors of each node in CSR form. */
export class Graph {
  /** Successors of v: `succ[succStart[v] .. succStart[v + 1])`, with edge kinds in `succKind`. */
  readonly succStart: Uint32Array;
  readonly succ: Int32Array;
  readonly succKind: Uint8Array;
  /** Predecessors of v: `pred[predStart[v] .. predStart[v + 1])`. */
  readonly predStart: Uint32Array;
  readonly pred: Int32Array;
  readonly predKind: Uint8Array;

  constructor(readonly size: number, edges: EdgeList) {
    const m = edges.length;
    const csr = (key: Int32Array, val: Int32Array) => {
      const start = new Uint32Array(size + 1);
      for (let i = 0; i < m; i++) start[key[i] + 1]++;
      for (let v = 0; v < size; v++) start[v + 1] += start[v];
      const fill = start.slice(0, size);
      const out = new Int32Array(m);
      const kinds = new Uint8Array(m);
      for (let i = 0; i < m; i++) {
        const at = fill[key[i]]++;
        out[at] = val[i];
        kinds[at] = edges.kind[i];
      }
      return { start, out, kinds };
    };
    const s = csr(edges.from, edges.to);
    this.succStart = s.start;
    this.succ = s.out;
    this.succKind = s.kinds;
    const p = csr(edges.to, edges.from);
    this.predStart = p.start;
    this.pred = p.out;
    this.predKind = p.kinds;
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
   * Immediate dominators from node 0 (Lengauer–Tarjan, simple version with path compression).
   * `idom[v]` is -1 for the root and for unreachable nodes. `order` lists the reachable nodes in
   * depth-first preorder (every node comes after its immediate dominator).
   */
  dominators(): { idom: Int32Array; order: Int32Array } {
    const n = this.size;
    const { succStart, succ, predStart, pred } = this;
    // dfn[v]: preorder number + 1 (0 = not visited). Everything else is indexed by number.
    const dfn = new Int32Array(n);
    const vertex = new Int32Array(n);
    const parent = new Int32Array(n);
    // Iterative DFS: a stack of nodes and their next edge.
    const stack = new Int32Array(n);
    const cursor = new Uint32Array(n);
    let count = 0;
    let sp = 0;
    dfn[0] = ++count;
    vertex[0] = 0;
    stack[sp++] = 0;
    cursor[0] = succStart[0];
    while (sp > 0) {
      const v = stack[sp - 1];
      const e = cursor[v];
      if (e < succStart[v + 1]) {
        cursor[v] = e + 1;
        const w = succ[e];
        if (dfn[w] === 0) {
          dfn[w] = ++count;
          vertex[count - 1] = w;
          parent[count - 1] = dfn[v] - 1;
          cursor[w] = succStart[w];
          stack[sp++] = w;
        }
      } else sp--;
    }
    const semi = new Int32Array(count);
    const label = new Int32Array(count);
    const ancestor = new Int32Array(count).fill(-1);
    const idomNum = new Int32Array(count);
    const bucketHead = new Int32Array(count).fill(-1);
    const bucketNext = new Int32Array(count).fill(-1);
    for (let i = 0; i < count; i++) {
      semi[i] = i;
      label[i] = i;
    }
    const path = new Int32Array(count);
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
    for (let i = count - 1; i > 0; i--) {
      const w = vertex[i];
      for (let e = predStart[w]; e < predStart[w + 1]; e++) {
        const d = dfn[pred[e]];
        if (d === 0) continue; // unreachable predecessor
        const u = evaluate(d - 1);
        if (semi[u] < semi[i]) semi[i] = semi[u];
      }
      const s = semi[i];
      bucketNext[i] = bucketHead[s];
      bucketHead[s] = i;
      const p = parent[i];
      ancestor[i] = p;
      for (let v = bucketHead[p]; v >= 0; v = bucketNext[v]) {
        const u = evaluate(v);
        idomNum[v] = semi[u] < semi[v] ? u : p;
      }
      bucketHead[p] = -1;
    }
    for (let i = 1; i < count; i++) {
      if (idomNum[i] !== semi[i]) idomNum[i] = idomNum[idomNum[i]];
    }
    const idom = new Int32Array(n).fill(-1);
    for (let i = 1; i < count; i++) idom[vertex[i]] = vertex[idomNum[i]];
    return { idom, order: vertex.slice(0, count) };
  }
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
