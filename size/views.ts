/**
 * The views over a {@linkcode SizeAnalysis}: the largest items (`top`), the largest retainers,
 * why an item is kept (shortest paths from the roots), and the garbage no root reaches.
 * @module
 */
import { UsageError } from "../errors.ts";
import type { WasmModule } from "../wasm/module.ts";
import {
  type AnalyzeOptions,
  analyzeSize,
  ITEM_KINDS,
  type PathStep,
  SizeAnalysis,
  type SizeItem,
} from "./analyze.ts";

/** Kind codes from here on are virtual nodes (table contents, call_indirect targets). */
const VIRTUAL = ITEM_KINDS.indexOf("table-contents");

/** Options of {@linkcode topItems}. */
export interface TopOptions {
  /** How many items (default 20). */
  limit?: number;
  /** Sort by own bytes (default) or by retained bytes. */
  by?: "bytes" | "retained";
  /** Only these kinds. */
  kinds?: SizeItem["kind"][];
}

/** Selects the `limit` largest of `ids` by `key` without sorting them all (a bounded heap). */
function largest(ids: ArrayLike<number>, key: Float64Array, limit: number): number[] {
  const pick = largestOf(key, limit);
  for (let k = 0; k < ids.length; k++) pick.add(ids[k]);
  return pick.result();
}

/** A bounded min-heap keeping the `limit` largest ids offered to `add`, by `key`. */
function largestOf(key: Float64Array, limit: number) {
  const heap: number[] = []; // min-heap on key
  const less = (a: number, b: number) => key[a] < key[b] || (key[a] === key[b] && a > b);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let s = i;
      if (l < heap.length && less(heap[l], heap[s])) s = l;
      if (r < heap.length && less(heap[r], heap[s])) s = r;
      if (s === i) return;
      [heap[i], heap[s]] = [heap[s], heap[i]];
      i = s;
    }
  };
  return {
    add(v: number): void {
      if (heap.length < limit) {
        heap.push(v);
        for (let i = heap.length - 1; i > 0;) {
          const p = (i - 1) >> 1;
          if (!less(heap[i], heap[p])) break;
          [heap[i], heap[p]] = [heap[p], heap[i]];
          i = p;
        }
      } else if (limit > 0 && less(heap[0], v)) {
        heap[0] = v;
        down(0);
      }
    },
    result: (): number[] => heap.sort((a, b) => (less(a, b) ? 1 : less(b, a) ? -1 : 0)),
  };
}

/**
 * The largest items of a module, by own or retained bytes.
 *
 * @example The five largest items of the demo module cover its custom sections and code
 * ```ts
 * import { analyzeSize, topItems } from "./mod.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const top = topItems(analyzeSize(bytes), { limit: 5 });
 * assert.strictEqual(top.length, 5);
 * assert.ok(top[0].bytes >= top[4].bytes);
 * ```
 */
export function topItems(analysis: SizeAnalysis, options: TopOptions = {}): SizeItem[] {
  const { limit = 20, by = "bytes", kinds } = options;
  const key = by === "retained" ? analysis.retained : analysis.shallow;
  const wanted = kinds ? new Set(kinds.map((k) => ITEM_KINDS.indexOf(k))) : undefined;
  const kind = analysis.kind;
  // Retained sizes are about what is kept: garbage has its own view.
  const idom = by === "retained" ? analysis.idom : undefined;
  // Offered one by one: no array of every candidate.
  const pick = largestOf(key, limit);
  for (let v = 1; v < kind.length; v++) {
    const k = kind[v];
    if (!(wanted ? wanted.has(k) : k < VIRTUAL)) continue;
    if (idom && idom[v] < 0) continue;
    pick.add(v);
  }
  return pick.result().map((v) => analysis.item(v, by === "retained"));
}

/** Matches items by name: a `/regex/flags` string, a RegExp, or a name. */
function matcher(query: string | RegExp): (names: (string | undefined)[]) => boolean {
  let re: RegExp | undefined = query instanceof RegExp ? query : undefined;
  if (typeof query === "string") {
    const m = /^\/(.*)\/([a-z]*)$/s.exec(query);
    if (m) {
      try {
        re = new RegExp(m[1], m[2]);
      } catch (e) {
        throw new UsageError(
          `Invalid pattern ${query}: ${(e as Error).message}; fix the /regex/`,
          2,
        );
      }
    }
  }
  if (re) {
    const r = re;
    return (names) => names.some((n) => n !== undefined && r.test(n));
  }
  return (names) => names.some((n) => n === query);
}

/** What {@linkcode whyKept} found for one item. */
export interface WhyItem {
  /** The matching item. */
  item: SizeItem;
  /** Up to `paths` shortest paths from the roots, each through a different last step. */
  paths: PathStep[][];
  /** Items that reference this one, reachable or not (`callers` for functions). */
  referrers: number;
}

/** Options of {@linkcode whyKept}. */
export interface WhyOptions extends AnalyzeOptions {
  /** Paths per item (default 3). */
  paths?: number;
  /** Items to report at most (default 10). */
  limit?: number;
}

/** What {@linkcode whyKept} returns. */
export interface WhyReport {
  /** The query as given. */
  query: string;
  /** Matching items (largest first), with their paths. */
  matches: WhyItem[];
  /** Matches beyond `limit`. */
  more: number;
}

/**
 * The shortest paths from the roots (exports, start, imported tables, active data, symbols of
 * objects) to every item matching `query`: a name as displayed or as the module spells it, or
 * `/regex/`. A plain name that matches nothing exactly matches as a substring.
 *
 * @example Why is the demo's panic handler kept?
 * ```ts
 * import { whyKept } from "./mod.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const why = whyKept(bytes, "/panic_fmt/");
 * assert.ok(why.matches.length > 0);
 * const path = why.matches[0].paths[0];
 * assert.strictEqual(path[path.length - 1].item.name, why.matches[0].item.name);
 * ```
 */
export function whyKept(
  input: Uint8Array | WasmModule | SizeAnalysis,
  query: string | RegExp,
  options: WhyOptions = {},
): WhyReport {
  const a = input instanceof SizeAnalysis ? input : analyzeSize(input, options);
  const { paths: perItem = 3, limit = 10 } = options;
  let match = matcher(query);
  const candidates = () => a.itemIds().filter((v) => match([a.name(v), a.rawName(v)]));
  let ids = candidates();
  if (ids.length === 0 && typeof query === "string" && !query.startsWith("/")) {
    match = (names) => names.some((n) => n?.includes(query));
    ids = candidates();
  }
  const shown = largest(ids, a.shallow, limit);
  return {
    query: String(query),
    matches: shown.map((v) => ({
      item: a.item(v),
      paths: pathsTo(a, v, perItem),
      referrers: a.graph.predStart[v + 1] - a.graph.predStart[v],
    })),
    more: ids.length - shown.length,
  };
}

/** The shortest path from the root to `v` along the BFS tree, as steps. */
function treePath(a: SizeAnalysis, v: number): number[] {
  const { parent } = a.paths;
  const nodes: number[] = [];
  for (let x = v; x > 0; x = parent[x]) nodes.push(x);
  return nodes.reverse();
}

/** Up to `k` shortest root paths to `v`, each ending with a different predecessor. */
export function pathsTo(a: SizeAnalysis, v: number, k: number): PathStep[][] {
  const { depth } = a.paths;
  if (depth[v] < 0) return [];
  const g = a.graph;
  const preds: { u: number; kind: number }[] = [];
  for (let e = g.predStart[v]; e < g.predStart[v + 1]; e++) {
    const u = g.pred[e];
    if (depth[u] >= 0 && u !== v) preds.push({ u, kind: g.predKind[e] });
  }
  preds.sort((x, y) => depth[x.u] - depth[y.u] || x.u - y.u);
  const out: PathStep[][] = [];
  const used = new Set<number>();
  for (const { u, kind } of preds) {
    if (out.length >= k) break;
    if (used.has(u)) continue;
    used.add(u);
    const nodes = u === 0 ? [] : treePath(a, u);
    const steps = toSteps(a, nodes);
    steps.push({ item: a.item(v), via: a.edgeLabel(u, v, kind) });
    out.push(steps);
  }
  return out;
}

function toSteps(a: SizeAnalysis, nodes: number[]): PathStep[] {
  const { parent, parentKind } = a.paths;
  return nodes.map((x) => ({ item: a.item(x), via: a.edgeLabel(parent[x], x, parentKind[x]) }));
}

/**
 * Items no root reaches: what dead-code elimination would remove (functions first, largest
 * first).
 *
 * @example A module with one unused function
 * ```ts
 * import { garbageItems } from "./mod.ts";
 * import assert from "node:assert";
 * // (module (func (export "f")) (func $dead))
 * const bytes = new Uint8Array([
 *   0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 3, 2, 0, 0, 7, 5, 1, 1, 102, 0, 0,
 *   10, 7, 2, 2, 0, 11, 2, 0, 11,
 * ]);
 * assert.deepStrictEqual(garbageItems(bytes).map((i) => i.name), ["func[1]"]);
 * ```
 */
export function garbageItems(input: Uint8Array | WasmModule | SizeAnalysis): SizeItem[] {
  const a = input instanceof SizeAnalysis ? input : analyzeSize(input);
  const out = a.itemIds().filter((v) => !a.isReachable(v)).map((v) => a.item(v, false));
  const rank = (i: SizeItem) => (i.kind === "function" ? 0 : 1);
  return out.sort((x, y) => rank(x) - rank(y) || y.bytes - x.bytes || x.id - y.id);
}
