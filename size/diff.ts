/**
 * `diffSizes`: what changed between two builds of a module, per section and per item, with items
 * matched by kind and name.
 * @module
 */
import { sectionByteLength, type WasmModule } from "../wasm/module.ts";
import { type AnalyzeOptions, analyzeSize, ITEM_KINDS, SizeAnalysis } from "./analyze.ts";

/** One row of a diff. */
export interface DiffRow {
  /** Section name, or the item's name. */
  name: string;
  /** Item kind (`function`, `data`, ...), or `section`. */
  kind: string;
  /** Bytes before (0 when absent). */
  before: number;
  /** Bytes after (0 when absent). */
  after: number;
  /** `after - before`. */
  delta: number;
  /** How the item changed. */
  status: "removed" | "added" | "grown" | "shrunk" | "same";
}

/** What {@linkcode diffSizes} returns. */
export interface SizeDiff {
  /** File names, when known. */
  files: { before?: string; after?: string };
  /** Whole-file totals. */
  total: { before: number; after: number; delta: number };
  /** Every section (custom sections by name), sorted by |delta|, largest first. */
  sections: DiffRow[];
  /** Every item that changed, sorted by |delta|, largest first (unchanged items are left out). */
  items: DiffRow[];
  /** Items by status. */
  counts: Record<DiffRow["status"], number>;
}

function status(before: number, after: number, inBefore: boolean, inAfter: boolean) {
  if (!inAfter) return "removed" as const;
  if (!inBefore) return "added" as const;
  return after > before ? "grown" as const : after < before ? "shrunk" as const : "same" as const;
}

interface Entry {
  name: string;
  kind: string;
  raw: string;
  bytes: number;
}

/**
 * Items of an analysis grouped by kind and display name. Display names drop build hashes, so
 * one group can hold several items (generic instances, or binaryen's `_N` copies).
 */
function grouped(a: SizeAnalysis): Map<string, Entry[]> {
  const out = new Map<string, Entry[]>();
  for (const v of a.itemIds()) {
    const kind = ITEM_KINDS[a.kind[v]];
    // An imported function and its definition are the same thing to a reader.
    const group = kind === "import" ? "function" : kind;
    const name = a.name(v);
    const raw = (a.rawName(v) ?? name).replace(/(::h[0-9a-f]{16})_\d+$/, "$1");
    const key = `${group}\0${name}`;
    const list = out.get(key);
    const entry = { name, kind, raw, bytes: a.shallow[v] };
    if (list) list.push(entry);
    else out.set(key, [entry]);
  }
  return out;
}

/** Pairs the items of one group: same raw name first, then same size, then in order. */
function pair(xs: Entry[], ys: Entry[]): [Entry | undefined, Entry | undefined][] {
  const out: [Entry | undefined, Entry | undefined][] = [];
  const left = [...xs];
  let right = [...ys];
  for (
    const match of [
      (x: Entry, y: Entry) => x.raw === y.raw,
      (x: Entry, y: Entry) => x.bytes === y.bytes,
    ]
  ) {
    for (let i = 0; i < left.length; i++) {
      const j = right.findIndex((y) => match(left[i], y));
      if (j < 0) continue;
      out.push([left[i], right[j]]);
      left.splice(i--, 1);
      right = right.filter((_, k) => k !== j);
    }
  }
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) out.push([left[i], right[i]]);
  return out;
}

function sectionSizes(m: WasmModule): Map<string, number> {
  const out = new Map<string, number>([["header", 8]]);
  for (const s of m.sections) {
    const name = s.id === 0 ? `custom "${s.name}"` : s.name;
    out.set(name, (out.get(name) ?? 0) + sectionByteLength(s));
  }
  return out;
}

const byDelta = (x: DiffRow, y: DiffRow) =>
  Math.abs(y.delta) - Math.abs(x.delta) || x.name.localeCompare(y.name);

/**
 * Compares two builds of a module: sections and items (functions, data segments, custom
 * sections, ...) matched by kind and name, sorted by size change. Item deltas add up to the
 * file's delta (every byte belongs to one item).
 *
 * @example What stripping the custom sections of the demo removed
 * ```ts
 * import { diffSizes } from "./mod.ts";
 * import { runPipeline, stripCustomSections } from "../mod.ts";
 * import assert from "node:assert";
 * const before = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const { bytes: after } = await runPipeline(before, [stripCustomSections({ keep: ["name"] })]);
 * const diff = diffSizes(before, after);
 * assert.strictEqual(diff.total.delta, after.length - before.length);
 * assert.strictEqual(diff.items[0].status, "removed");
 * assert.strictEqual(diff.items.reduce((n, r) => n + r.delta, 0), diff.total.delta);
 * ```
 */
export function diffSizes(
  before: Uint8Array | WasmModule | SizeAnalysis,
  after: Uint8Array | WasmModule | SizeAnalysis,
  options: AnalyzeOptions = {},
): SizeDiff {
  const open = (x: Uint8Array | WasmModule | SizeAnalysis) =>
    x instanceof SizeAnalysis ? x : analyzeSize(x, { demangle: options.demangle });
  const a = open(before);
  const b = open(after);
  const ma = a.module;
  const mb = b.module;
  const sa = sectionSizes(ma);
  const sb = sectionSizes(mb);
  const sections: DiffRow[] = [];
  for (const name of new Set([...sa.keys(), ...sb.keys()])) {
    const x = sa.get(name) ?? 0;
    const y = sb.get(name) ?? 0;
    sections.push({
      name,
      kind: "section",
      before: x,
      after: y,
      delta: y - x,
      status: status(x, y, sa.has(name), sb.has(name)),
    });
  }
  const ga = grouped(a);
  const gb = grouped(b);
  const items: DiffRow[] = [];
  const counts = { removed: 0, added: 0, grown: 0, shrunk: 0, same: 0 };
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    for (const [x, y] of pair(ga.get(key) ?? [], gb.get(key) ?? [])) {
      const row: DiffRow = {
        name: (x ?? y)!.name,
        kind: (y ?? x)!.kind,
        before: x?.bytes ?? 0,
        after: y?.bytes ?? 0,
        delta: (y?.bytes ?? 0) - (x?.bytes ?? 0),
        status: status(x?.bytes ?? 0, y?.bytes ?? 0, x !== undefined, y !== undefined),
      };
      counts[row.status]++;
      if (row.status !== "same") items.push(row);
    }
  }
  return {
    files: { before: a.file, after: b.file },
    total: { before: a.totalBytes, after: b.totalBytes, delta: b.totalBytes - a.totalBytes },
    sections: sections.sort(byDelta),
    items: items.sort(byDelta),
    counts,
  };
}
