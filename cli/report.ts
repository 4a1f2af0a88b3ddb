/**
 * The table `opt` and `demo` print: sizes, each pass with its report, and where the time went.
 * @module
 */
import type { PipelineReport } from "../pipeline.ts";
import { phaseLabel } from "./progress.ts";
import { groupDigits } from "../text.ts";

/** `93.2% smaller`, `0.5% larger` or `same size`. */
export function sizeChange(before: number, after: number): string {
  if (after === before) return "same size";
  const pct = (100 * Math.abs(after - before) / Math.max(1, before)).toFixed(1);
  return after < before ? `${pct}% smaller` : `${pct}% larger`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

/** The report as a table (`format` "table") or JSON. */
export function formatReport(report: PipelineReport, format: string): string {
  if (format === "json") return JSON.stringify(report, null, 2);
  const lines = [
    `input ${groupDigits(report.inputBytes)} bytes → output ${
      groupDigits(report.outputBytes)
    } bytes (${sizeChange(report.inputBytes, report.outputBytes)})`,
  ];
  const binaryen = ["load binaryen", "ir parse", "ir emit"].reduce(
    (n, p) => n + (report.phases[p] ?? 0),
    0,
  );
  for (const run of report.passes) {
    const shared = run.level === "ir" && binaryen > 0 && run.report.skipped === undefined
      ? ` (+ ${ms(binaryen)} binaryen load/parse/emit, shared by the IR passes)`
      : "";
    lines.push(`${run.name}: ${ms(run.ms)}${shared}`);
    for (const [k, v] of Object.entries(run.report)) lines.push(`  ${k}: ${formatValue(v)}`);
  }
  lines.push(
    report.validated ? "output validated" : "validation skipped: no standard section changed",
  );
  const phases = Object.entries(report.phases).map(([p, t]) => `${phaseLabel(p)} ${ms(t)}`);
  lines.push(`time: ${ms(report.totalMs)}${phases.length ? ` (${phases.join(", ")})` : ""}`);
  return lines.join("\n");
}

/** One report value on one readable line; long lists are summarized (`--report json` has all). */
export function formatValue(v: unknown): string {
  if (typeof v !== "object" || v === null) return String(v);
  const json = JSON.stringify(v);
  if (json.length <= 100) return json;
  if (Array.isArray(v)) {
    const names = v.map((x) => (x as { name?: unknown })?.name).filter((n) =>
      typeof n === "string"
    );
    const shown = names.slice(0, 4).join(", ");
    return `${v.length} item(s)${shown ? `: ${shown}${names.length > 4 ? ", ..." : ""}` : ""}`;
  }
  return Object.entries(v).map(([k, x]) => `${k}=${typeof x === "object" ? "{...}" : x}`).join(" ");
}

/** Every warning of a run: the run's own, then each pass's, prefixed with the pass name. */
export function reportWarnings(report: PipelineReport): string[] {
  const out = [...(report.warnings ?? [])];
  for (const run of report.passes) {
    for (const w of (run.report.warnings as string[] | undefined) ?? []) {
      out.push(`${run.name}: ${w}`);
    }
  }
  return out;
}
