/**
 * Size insight: what is in a module, why it is kept, and what a pass removed.
 *
 * - {@linkcode analyzeSize}: every byte attributed to an item, and the reference graph.
 * - {@linkcode topItems}: the largest items by own or retained bytes.
 * - {@linkcode whyKept}: shortest paths from the roots to an item; {@linkcode garbageItems}: what
 *   no root reaches.
 * - {@linkcode diffSizes}: per-section and per-item changes between two builds.
 * - {@linkcode sizeReportHtml}: a self-contained HTML treemap.
 *
 * @example The largest function of the demo and why it is kept
 * ```ts
 * import { analyzeSize, topItems, whyKept } from "./mod.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const analysis = analyzeSize(bytes);
 * const [big] = topItems(analysis, { limit: 1, kinds: ["function"] });
 * const why = whyKept(analysis, big.rawName ?? big.name);
 * assert.strictEqual(why.matches[0].item.id, big.id);
 * ```
 * @module
 */
export {
  type AnalyzeOptions,
  analyzeSize,
  EDGE_KINDS,
  type EdgeKind,
  ITEM_KINDS,
  type ItemKind,
  type PathStep,
  SizeAnalysis,
  type SizeItem,
} from "./analyze.ts";
export {
  garbageItems,
  pathsTo,
  topItems,
  type TopOptions,
  type WhyItem,
  whyKept,
  type WhyOptions,
  type WhyReport,
} from "./views.ts";
export { type DiffRow, diffSizes, type SizeDiff } from "./diff.ts";
export { EdgeList, Graph, retainedSizes } from "./graph.ts";
export { type Demangle, displayName, isMangled, type NamePath, namePath } from "./names.ts";
export { diffReportHtml, sizeReportHtml } from "./html.ts";
export { formatDiff, formatGarbage, formatTop, formatWhy } from "./format.ts";
