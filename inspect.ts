/**
 * `inspect`: a summary of a module's sections, sizes, imports/exports and names.
 * @module
 */
import { readNames } from "./wasm/custom.ts";
import { type Section, WasmModule } from "./wasm/module.ts";
import { readCode, readExports, readFunctions, readImports } from "./wasm/types.ts";
import { groupDigits } from "./text.ts";

/** One row of the section table. */
export interface SectionRow {
  /** Section id (0 for custom sections). */
  id: number;
  /** Standard section name, or the custom section's name. */
  name: string;
  /** True for custom sections. */
  custom: boolean;
  /** Size of the whole section including its header. */
  bytes: number;
  /** Share of the file, 0..1. */
  share: number;
}

/** What `inspect` reports. */
export interface InspectReport {
  /** The file name, when known. */
  file?: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** True for relocatable objects (a `linking` section). */
  relocatable: boolean;
  /** Every section in file order. */
  sections: SectionRow[];
  /** Number of imports by kind (`func`, `table`, `memory`, `global`, `tag`). */
  imports: Record<string, number>;
  /** Number of exports by kind. */
  exports: Record<string, number>;
  /** Imported and defined functions, and the bytes of all function bodies. */
  functions: { imported: number; defined: number; codeBytes: number };
  /** Whether a `name` section exists, how many functions it names, and the module name. */
  names: { present: boolean; functions: number; module?: string };
}

function size(s: Section): number {
  return s.raw?.length ?? s.payload.length;
}

/**
 * Summarizes a module.
 *
 * @example Inspect an empty module
 * ```ts
 * import { inspectModule } from "./inspect.ts";
 * import assert from "node:assert";
 * const r = inspectModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
 * assert.strictEqual(r.sections.length, 0);
 * ```
 */
export function inspectModule(input: Uint8Array | WasmModule, file?: string): InspectReport {
  const m = input instanceof WasmModule ? input : WasmModule.parse(input, { file });
  const total = m.source.length;
  const count = (kinds: string[]) =>
    kinds.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
  const imports = readImports(m);
  const names = readNames(m);
  const code = readCode(m);
  return {
    file,
    bytes: total,
    relocatable: m.isRelocatable,
    sections: m.sections.map((s) => ({
      id: s.id,
      name: s.name,
      custom: s.id === 0,
      bytes: size(s),
      share: size(s) / total,
    })),
    imports: count(imports.map((i) => i.kind)),
    exports: count(readExports(m).map((e) => e.kind)),
    functions: {
      imported: imports.filter((i) => i.kind === "func").length,
      defined: readFunctions(m).length,
      codeBytes: code.reduce((n, f) => n + f.body.length, 0),
    },
    names: {
      present: names !== undefined,
      functions: names?.functions.size ?? 0,
      module: names?.module,
    },
  };
}

const fmt = groupDigits;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const summary = (r: Record<string, number>) =>
  Object.entries(r).map(([k, v]) => `${v} ${k}`).join(", ") || "none";

/** Formats an {@linkcode InspectReport} as an aligned text table. */
export function formatInspect(r: InspectReport): string {
  const rows = r.sections.map((
    s,
  ) => [s.custom ? `custom "${s.name}"` : s.name, fmt(s.bytes), pct(s.share)]);
  const header = ["section", "bytes", "share"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  const customs = r.sections.filter((s) => s.custom);
  return [
    `${r.file ?? "<input>"}: ${fmt(r.bytes)} bytes, ${
      r.relocatable ? "relocatable object" : "module"
    }`,
    "",
    line(header),
    ...rows.map(line),
    "",
    `custom sections: ${customs.length ? customs.map((s) => s.name).join(", ") : "none"}`,
    `imports: ${summary(r.imports)}`,
    `exports: ${summary(r.exports)}`,
    `functions: ${r.functions.imported} imported, ${r.functions.defined} defined, ${
      fmt(r.functions.codeBytes)
    } bytes of code`,
    `names: ${r.names.present ? `yes (${r.names.functions} functions named)` : "no"}`,
  ].join("\n");
}
