/**
 * Text tables for the size views (the CLI prints these; `--json` prints the objects instead).
 * @module
 */
import type { SizeItem } from "./analyze.ts";
import type { SizeDiff } from "./diff.ts";
import type { WhyReport } from "./views.ts";
import { groupDigits } from "../text.ts";

const num = groupDigits;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const signed = (n: number) => (n > 0 ? `+${num(n)}` : n < 0 ? `−${num(-n)}` : "0");

/** Aligns rows: numeric columns (given by `right`) to the right, the last column free. */
function table(header: string[], rows: string[][], right: Set<number>): string[] {
  const widths = header.map((h, i) =>
    i === header.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) =>
      i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])
    ).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

const where = (i: SizeItem) => (i.crate ? (i.module ? `${i.crate}::${i.module}` : i.crate) : "");

/** The `inspect --top` table. */
export function formatTop(
  file: string,
  totalBytes: number,
  items: SizeItem[],
  by: "bytes" | "retained",
): string {
  const title = by === "retained"
    ? `${file}: ${
      num(totalBytes)
    } bytes; the ${items.length} largest retainers (own bytes + bytes only they keep alive)`
    : `${file}: ${num(totalBytes)} bytes; the ${items.length} largest items`;
  const showWhere = items.some((i) => i.crate);
  const header = by === "retained"
    ? ["retained", "share", "own", "kind", ...(showWhere ? ["crate/module"] : []), "item"]
    : ["bytes", "share", "kind", ...(showWhere ? ["crate/module"] : []), "item"];
  const rows = items.map((i) => {
    const mark = i.reachable === false ? " (garbage)" : "";
    const cells = by === "retained"
      ? [
        num(i.retained ?? i.bytes),
        pct((i.retained ?? i.bytes) / totalBytes),
        num(i.bytes),
        i.kind,
      ]
      : [num(i.bytes), pct(i.share), i.kind];
    if (showWhere) cells.push(where(i));
    cells.push(i.name + mark);
    return cells;
  });
  const shown = items.reduce((n, i) => n + (by === "retained" ? 0 : i.bytes), 0);
  const lines = [
    title,
    "",
    ...table(header, rows, new Set(by === "retained" ? [0, 1, 2] : [0, 1])),
  ];
  if (by === "bytes") lines.push("", `shown: ${num(shown)} bytes (${pct(shown / totalBytes)})`);
  return lines.join("\n");
}

/** The `why` answer. */
export function formatWhy(r: WhyReport): string {
  if (r.matches.length === 0) return `no item matches ${JSON.stringify(r.query)}`;
  const lines: string[] = [];
  for (const m of r.matches) {
    const i = m.item;
    lines.push(
      `${i.name} (${i.kind}, ${num(i.bytes)} bytes${
        i.reachable ? `, retains ${num(i.retained ?? i.bytes)}` : ""
      })`,
    );
    if (!i.reachable) {
      lines.push(
        `  not reachable from any root: garbage (${m.referrers} unreachable referrer(s))`,
        "",
      );
      continue;
    }
    m.paths.forEach((path, k) => {
      lines.push(`  path ${k + 1}:`);
      const width = Math.max(...path.map((s) => s.item.name.length));
      for (const s of path) lines.push(`    ${s.item.name.padEnd(width)}  ← ${s.via}`);
    });
    if (m.referrers > m.paths.length) {
      lines.push(`  (${m.referrers} referrer(s) in all; --paths N shows more)`);
    }
    lines.push("");
  }
  if (r.more) lines.push(`${r.more} more match(es); --limit N shows more`);
  return lines.join("\n").trimEnd();
}

/** The `why --garbage` list. */
export function formatGarbage(
  file: string,
  totalBytes: number,
  items: SizeItem[],
  limit: number,
): string {
  const bytes = items.reduce((n, i) => n + i.bytes, 0);
  const shown = items.slice(0, limit);
  const lines = [
    `${file}: ${items.length} item(s) no root reaches, ${num(bytes)} bytes (${
      pct(bytes / totalBytes)
    })`,
  ];
  if (items.length === 0) return lines[0];
  lines.push(
    "",
    ...table(
      ["bytes", "kind", "item"],
      shown.map((i) => [num(i.bytes), i.kind, i.name]),
      new Set([0]),
    ),
  );
  if (items.length > shown.length) {
    lines.push(`... ${items.length - shown.length} more (--limit N)`);
  }
  return lines.join("\n");
}

/** The `diff` tables. */
export function formatDiff(d: SizeDiff, limit = 20): string {
  const { before, after, delta } = d.total;
  const lines = [
    `${d.files.before ?? "before"} → ${d.files.after ?? "after"}: ${num(before)} → ${
      num(after)
    } bytes (${signed(delta)}, ${
      before
        ? `${delta > 0 ? "+" : delta < 0 ? "−" : ""}${(Math.abs(100 * delta) / before).toFixed(1)}%`
        : "n/a"
    })`,
    "",
    ...(d.sections.some((s) => s.delta !== 0)
      ? table(
        ["delta", "before", "after", "section"],
        d.sections.filter((s) => s.delta !== 0).map((
          s,
        ) => [signed(s.delta), num(s.before), num(s.after), s.name]),
        new Set([0, 1, 2]),
      ).concat([""])
      : []),
  ];
  const c = d.counts;
  lines.push(
    `items: ${c.removed} removed, ${c.added} added, ${c.grown} grown, ${c.shrunk} shrunk, ${c.same} unchanged`,
  );
  const shown = d.items.slice(0, limit);
  if (shown.length) {
    lines.push(
      "",
      ...table(
        ["delta", "before", "after", "status", "kind", "item"],
        shown.map((r) => [signed(r.delta), num(r.before), num(r.after), r.status, r.kind, r.name]),
        new Set([0, 1, 2]),
      ),
    );
    const rest = d.items.slice(limit);
    if (rest.length) {
      const sum = rest.reduce((n, r) => n + r.delta, 0);
      lines.push(`... ${rest.length} more changed item(s), ${signed(sum)} bytes (--limit N)`);
    }
  }
  return lines.join("\n");
}
