/**
 * Self-contained HTML reports: an interactive treemap of a module (sections → crates → modules →
 * items, area = bytes, colour = crate or kind) with a search box and the `why` path of a clicked
 * item, and the same treemap for a diff (colour = removed/added/grown/shrunk). No network, no
 * CDN: the data and the script are inlined.
 * @module
 */
import { ITEM_KINDS, type SizeAnalysis } from "./analyze.ts";
import { diffSizes } from "./diff.ts";
import { groupDigits } from "../text.ts";

/** A leaf of the treemap as the page receives it. */
type Row = [
  name: string,
  kind: string,
  bytes: number,
  group: string,
  crate: string,
  module: string,
  parent: number,
  via: string,
  extra: number,
];

/** The top-level group of an item kind. */
function groupOf(kind: string): string {
  switch (kind) {
    case "function":
      return "code";
    case "import":
      return "imports";
    case "data":
      return "data";
    case "custom":
      return "custom sections";
    default:
      return "other";
  }
}

/** Rows for every node of `a` (virtual nodes included, so paths can pass through them). */
function rows(a: SizeAnalysis): Row[] {
  const { parent, parentKind } = a.paths;
  const out: Row[] = [];
  for (let v = 0; v < a.nodeCount; v++) {
    const kind = ITEM_KINDS[a.kind[v]];
    const virtual = kind === "root" || kind === "table-contents" || kind === "indirect";
    const item = virtual ? undefined : a.item(v, false);
    out.push([
      v === 0 ? "<roots>" : a.name(v),
      kind,
      virtual ? 0 : a.shallow[v],
      virtual ? "" : groupOf(kind),
      item?.crate ?? "",
      item?.module ?? "",
      parent[v],
      parent[v] >= 0 ? a.edgeLabel(parent[v], v, parentKind[v]) : "",
      a.isReachable(v) ? 1 : 0,
    ]);
  }
  return out;
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028|\u2029/g, " ");
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * The treemap report of one module as one HTML file.
 *
 * @example A report of the demo module
 * ```ts
 * import { analyzeSize, sizeReportHtml } from "./mod.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const html = sizeReportHtml(analyzeSize(bytes, { file: "app.wasm" }));
 * assert.ok(html.startsWith("<!doctype html>") && !/<script[^>]+src=/.test(html));
 * ```
 */
export function sizeReportHtml(a: SizeAnalysis): string {
  const title = `${a.file ?? "module"}: ${groupDigits(a.totalBytes)} bytes`;
  return page(title, {
    mode: "size",
    file: a.file ?? "module",
    total: a.totalBytes,
    rows: rows(a),
  });
}

/**
 * The treemap of a diff: area = the larger of the two sizes, colour = what happened to the item.
 *
 * @example Diff of the demo against itself has nothing changed
 * ```ts
 * import { analyzeSize, diffReportHtml } from "./mod.ts";
 * import assert from "node:assert";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const html = diffReportHtml(analyzeSize(bytes), analyzeSize(bytes));
 * assert.ok(html.includes('"changed":0'));
 * ```
 */
export function diffReportHtml(before: SizeAnalysis, after: SizeAnalysis): string {
  const d = diffSizes(before, after);
  const title = `${d.files.before ?? "before"} → ${d.files.after ?? "after"}: ${
    groupDigits(d.total.before)
  } → ${groupDigits(d.total.after)} bytes`;
  // Unchanged items stay in the picture (grey) so the changes show against the whole module.
  const changed = new Map(d.items.map((r) => [`${r.kind}\0${r.name}`, r]));
  const diffRows: Row[] = [];
  for (const r of d.items) {
    diffRows.push([
      r.name,
      r.kind,
      Math.max(r.before, r.after),
      groupOf(r.kind),
      "",
      "",
      -1,
      r.status,
      r.delta,
    ]);
  }
  for (const v of after.itemIds()) {
    const kind = ITEM_KINDS[after.kind[v]];
    const name = after.name(v);
    if (changed.has(`${kind}\0${name}`)) continue;
    diffRows.push([name, kind, after.shallow[v], groupOf(kind), "", "", -1, "same", 0]);
  }
  return page(title, {
    mode: "diff",
    file: title,
    total: Math.max(d.total.before, d.total.after),
    delta: d.total.delta,
    changed: d.items.length,
    rows: diffRows,
  });
}

function page(title: string, data: Record<string, unknown>): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1 id="title">${escapeHtml(title)}</h1>
  <input id="search" type="search" placeholder="search items (text or /regex/)" autocomplete="off">
  <span id="count"></span>
  <button id="up" type="button" hidden>↑ whole module</button>
</header>
<main>
  <div id="map" role="tree"></div>
  <aside id="side"><div id="why"></div><h2 id="side-title">largest items</h2><ol id="list"></ol></aside>
</main>
<script type="application/json" id="data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, sans-serif; color: #222; background: #fafafa; }
header { display: flex; gap: 12px; align-items: center; padding: 8px 12px; border-bottom: 1px solid #ddd; }
h1 { font-size: 15px; margin: 0; flex: 1; }
#search { width: 280px; padding: 4px 6px; }
main { display: flex; height: calc(100vh - 44px); }
#map { position: relative; flex: 1; margin: 8px; }
aside { width: 340px; overflow: auto; border-left: 1px solid #ddd; padding: 8px 12px; background: #fff; }
aside h2 { font-size: 13px; margin: 4px 0; }
ol { padding-left: 20px; margin: 4px 0 12px; }
li { cursor: pointer; word-break: break-all; }
li:hover { text-decoration: underline; }
.cell { position: absolute; overflow: hidden; border: 1px solid rgba(255,255,255,.9); font-size: 11px;
  padding: 1px 3px; white-space: nowrap; text-overflow: ellipsis; cursor: pointer; color: #111; }
.group { position: absolute; border: 1px solid #888; background: #eee; overflow: hidden; }
.group > .label { cursor: zoom-in; font-size: 11px; font-weight: 600; padding: 0 3px; white-space: nowrap; height: 14px;
  overflow: hidden; text-overflow: ellipsis; }
.cell.hit { outline: 2px solid #000; z-index: 2; }
.cell.dim { opacity: .25; }
.cell.selected { outline: 3px solid #d00; z-index: 3; }
#why ol { padding-left: 18px; }
#why .via { color: #666; }
.garbage { color: #a00; }
`;

/** The page script: builds the hierarchy, lays out a squarified treemap, wires search and clicks. */
const SCRIPT = `
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const rows = data.rows;
const fmt = (n) => n.toLocaleString("en-US");
const STATUS = { removed: "#e57373", added: "#81c784", grown: "#ffb74d", shrunk: "#64b5f6", same: "#d5d5d5" };
const KIND = { data: "#b0bec5", custom: "#ce93d8", import: "#ffcc80", section: "#bcaaa4", global: "#a5d6a7",
  table: "#90caf9", memory: "#90caf9", element: "#80deea" };
function hue(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0; return h % 360; }
function colour(r) {
  if (data.mode === "diff") return STATUS[r[7]] || "#ddd";
  if (r[1] === "function") return r[4] ? "hsl(" + hue(r[4]) + ",60%,72%)" : "#e0e0e0";
  return KIND[r[1]] || "#ddd";
}
// Hierarchy: group → crate → module → item (only levels that exist).
function build() {
  const root = { name: data.file, children: new Map(), size: 0 };
  rows.forEach((r, id) => {
    if (!r[3] || r[2] <= 0) return;
    const path = [r[3]];
    if (r[3] === "code" && r[4]) { path.push(r[4]); if (r[5]) path.push(r[5]); }
    let node = root;
    node.size += r[2];
    for (const p of path) {
      let next = node.children.get(p);
      if (!next) { next = { name: p, path: (node.path || []).concat([p]), children: new Map(), size: 0 }; node.children.set(p, next); }
      next.size += r[2];
      node = next;
    }
    node.children.set("#" + id, { name: r[0], id, size: r[2] });
  });
  return root;
}
// Squarified layout (Bruls, Huizing, van Wijk) of sizes into a rectangle.
function squarify(items, x, y, w, h) {
  const out = [];
  const total = items.reduce((n, i) => n + i.size, 0);
  if (total <= 0 || w <= 0 || h <= 0) return out;
  const scale = (w * h) / total;
  let rest = items.map((i) => ({ item: i, area: i.size * scale }));
  while (rest.length) {
    const side = Math.min(w, h);
    let row = [rest[0]];
    let sum = rest[0].area;
    const worst = (r, s) => { let max = 0, min = Infinity; for (const c of r) { max = Math.max(max, c.area); min = Math.min(min, c.area); }
      return Math.max((side * side * max) / (s * s), (s * s) / (side * side * min)); };
    let k = 1;
    while (k < rest.length) {
      const next = rest[k];
      if (worst(row.concat([next]), sum + next.area) > worst(row, sum)) break;
      row.push(next); sum += next.area; k++;
    }
    rest = rest.slice(k);
    const thick = sum / side;
    let off = 0;
    for (const c of row) {
      const len = c.area / thick;
      if (w >= h) out.push({ item: c.item, x, y: y + off, w: thick, h: len });
      else out.push({ item: c.item, x: x + off, y, w: len, h: thick });
      off += len;
    }
    if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
  }
  return out;
}
const map = document.getElementById("map");
const cells = new Map();
const tree = build();
// The group shown full-size: a click on a group's label zooms into it.
let focus = tree;
// The selected item: kept across redraws (a resize or a zoom rebuilds every cell).
let selected;
function render() {
  map.textContent = "";
  cells.clear();
  const box = map.getBoundingClientRect();
  document.getElementById("up").hidden = focus === tree;
  document.getElementById("title").textContent = focus === tree
    ? document.title
    : document.title + " › " + focus.path.join(" › ") + " (" + fmt(focus.size) + " bytes)";
  draw(focus, map, 0, 0, box.width, box.height, 0);
}
document.getElementById("up").addEventListener("click", () => { focus = tree; render(); });
function draw(node, parent, x, y, w, h, depth) {
  let kids = [...node.children.values()].sort((a, b) => b.size - a.size);
  // Items too small to see are pooled into one cell per group.
  const min = (node.size / Math.max(1, w * h)) * 24;
  const small = kids.filter((k) => k.size < min && k.id !== undefined);
  if (small.length > 1) {
    kids = kids.filter((k) => !(k.size < min && k.id !== undefined));
    kids.push({ name: small.length + " small items", size: small.reduce((n, k) => n + k.size, 0), pooled: small });
  }
  for (const r of squarify(kids, x, y, w, h)) {
    const k = r.item;
    if (k.children) {
      const g = document.createElement("div");
      g.className = "group";
      g.style.cssText = "left:" + r.x + "px;top:" + r.y + "px;width:" + r.w + "px;height:" + r.h + "px";
      const label = document.createElement("div");
      label.className = "label";
      label.textContent = k.name + " " + fmt(k.size);
      g.title = k.name + ": " + fmt(k.size) + " bytes (click the label to zoom in)";
      label.addEventListener("click", () => { focus = k; render(); });
      g.append(label);
      parent.append(g);
      if (r.w > 6 && r.h > 20) draw(k, g, 1, 15, r.w - 3, r.h - 17, depth + 1);
      continue;
    }
    const c = document.createElement("div");
    c.className = "cell";
    c.style.cssText = "left:" + r.x + "px;top:" + r.y + "px;width:" + r.w + "px;height:" + r.h + "px;background:" +
      (k.pooled ? "#f0f0f0" : colour(rows[k.id]));
    c.textContent = r.w > 30 && r.h > 11 ? k.name : "";
    if (k.pooled) { c.title = k.name + ": " + fmt(k.size) + " bytes"; }
    else {
      const row = rows[k.id];
      c.dataset.id = k.id;
      c.title = row[0] + "\\n" + row[1] + ", " + fmt(row[2]) + " bytes" + (data.mode === "diff" ? ", " + row[7] : "");
      c.addEventListener("click", () => select(k.id));
      if (k.id === selected) c.classList.add("selected");
      cells.set(k.id, c);
    }
    parent.append(c);
  }
}
const list = document.getElementById("list");
function showList(ids, title) {
  document.getElementById("side-title").textContent = title;
  list.textContent = "";
  for (const id of ids.slice(0, 30)) {
    const r = rows[id];
    const li = document.createElement("li");
    li.dataset.id = id;
    li.textContent = (data.mode === "diff" ? (r[8] > 0 ? "+" : "") + fmt(r[8]) + " " + r[7] + " " : fmt(r[2]) + " ") + r[0];
    li.addEventListener("click", () => select(id));
    list.append(li);
  }
}
function select(id) {
  selected = id;
  for (const c of map.querySelectorAll(".selected")) c.classList.remove("selected");
  cells.get(id)?.classList.add("selected");
  const r = rows[id];
  const why = document.getElementById("why");
  why.textContent = "";
  const h = document.createElement("h2");
  h.textContent = r[0];
  const p = document.createElement("p");
  p.textContent = r[1] + ", " + fmt(r[2]) + " bytes" + (data.mode === "diff" ? " (" + r[7] + ", " + (r[8] > 0 ? "+" : "") + fmt(r[8]) + ")" : "");
  why.append(h, p);
  if (data.mode === "diff") return;
  const path = [];
  for (let v = id; v > 0; v = rows[v][6]) path.push(v);
  if (!r[8]) {
    const g = document.createElement("p");
    g.className = "garbage";
    g.textContent = "no root reaches it: garbage";
    why.append(g);
    return;
  }
  const t = document.createElement("h2");
  t.textContent = "why it is kept (shortest path from a root)";
  const ol = document.createElement("ol");
  ol.id = "why-path";
  for (const v of path.reverse()) {
    const li = document.createElement("li");
    const via = document.createElement("span");
    via.className = "via";
    via.textContent = rows[v][7] + " → ";
    li.append(via, rows[v][0]);
    li.addEventListener("click", () => select(v));
    ol.append(li);
  }
  why.append(t, ol);
}
function search(q) {
  let test;
  const m = /^\\/(.*)\\/([a-z]*)$/.exec(q);
  try { test = m ? ((re) => (s) => re.test(s))(new RegExp(m[1], m[2])) : (s) => s.toLowerCase().includes(q.toLowerCase()); }
  catch { return; }
  const hits = [];
  rows.forEach((r, id) => { if (r[3] && q && test(r[0])) hits.push(id); });
  hits.sort((a, b) => rows[b][2] - rows[a][2]);
  const set = new Set(hits);
  for (const [id, c] of cells) { c.classList.toggle("hit", set.has(id)); c.classList.toggle("dim", q !== "" && !set.has(id)); }
  document.getElementById("count").textContent = q ? hits.length + " match(es)" : "";
  if (q) showList(hits, "matches"); else showTop();
}
function showTop() {
  const ids = [];
  rows.forEach((r, id) => { if (r[3] && (data.mode !== "diff" || r[7] !== "same")) ids.push(id); });
  if (data.mode === "diff") ids.sort((a, b) => Math.abs(rows[b][8]) - Math.abs(rows[a][8]));
  else ids.sort((a, b) => rows[b][2] - rows[a][2]);
  showList(ids, data.mode === "diff" ? "largest changes" : "largest items");
}
document.getElementById("search").addEventListener("input", (e) => search(e.target.value.trim()));
render();
showTop();
addEventListener("resize", render);
document.body.dataset.ready = "1";
`;
