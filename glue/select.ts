/**
 * Choosing the JS a linked module needs: the import records of the imports it kept (the linker's
 * dead-code elimination decides), and the embeds those records require, transitively. The result
 * is what js-bindgen's linker puts in `js_bindgen.js_output`.
 * @module
 */
import type { GlueProblem } from "../errors.ts";
import type { Import } from "../wasm/types.ts";
import { type JsOutput, setJs } from "./js_output.ts";
import type { JsName, JsRecord } from "./records.ts";

/** What {@linkcode selectJs} chose and left out. */
export interface Selection {
  /** The section contents. */
  output: JsOutput;
  /** Imports that got JS, as `module/name`, sorted. */
  imports: string[];
  /** Embeds included, as `module/name`, sorted. */
  embeds: string[];
  /** Imports (other than the main memory) with no JS: the user must provide them. */
  missing: string[];
  /** Dead records: `import module/name` (not imported) or `embed module/name` (not required). */
  dropped: string[];
  /** The embeds in evaluation order: each after the embeds it requires (cycles aside). */
  embedOrder: JsName[];
  /** Conflicting records and missing embeds, all of them (empty when the JS is consistent). */
  problems: GlueProblem[];
}

const key = (n: JsName) => `${n.module}\0${n.name}`;
const label = (n: JsName) => `${JSON.stringify(n.module)}/${JSON.stringify(n.name)}`;
const hex = (n: number) => n < 0 ? "a rebuilt section" : `offset 0x${n.toString(16)}`;

/** Orders names by module, then name (code unit order, like Rust's `str` ordering of ASCII). */
export function byName(a: JsName, b: JsName): number {
  if (a.module !== b.module) return a.module < b.module ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Merges duplicate records (same text: one; different text: a problem naming both). */
function collect(records: JsRecord[], kind: "import" | "embed", problems: GlueProblem[]) {
  const map = new Map<string, JsRecord>();
  for (const r of records) {
    if (r.kind !== kind) continue;
    const had = map.get(key(r));
    if (!had) {
      map.set(key(r), { ...r, embeds: [...r.embeds] });
      continue;
    }
    if (had.text !== r.text) {
      problems.push({
        message: `Conflicting JS for ${kind} ${label(r)}: ${
          had.where ?? `the record at ${hex(had.offset)}`
        } says ${JSON.stringify(had.text)}, ${r.where ?? `the record at ${hex(r.offset)}`} says ${
          JSON.stringify(r.text)
        }; two crates (or two versions of one crate) define it differently: make them agree`,
      });
      continue;
    }
    for (const e of r.embeds) if (!had.embeds.some((h) => key(h) === key(e))) had.embeds.push(e);
  }
  return map;
}

/**
 * Selects the JS for a linked module's imports. `mainMemory` is left out (the glue provides the
 * memory). Conflicts and missing embeds are returned in `problems` (see {@linkcode GlueError}).
 *
 * @example Only imports the module kept get JS
 * ```ts
 * import assert from "node:assert";
 * import { selectJs } from "./select.ts";
 * const records = [
 *   { kind: "import" as const, module: "env", name: "now", embeds: [], text: "Date.now", offset: 0 },
 *   { kind: "import" as const, module: "env", name: "gone", embeds: [], text: "0", offset: 9 },
 * ];
 * const imports = [{ module: "env", name: "now", kind: "func" as const, type: 0 }];
 * const s = selectJs(records, imports, { module: "js_bindgen", name: "memory" });
 * assert.deepStrictEqual(s.imports, ["env/now"]);
 * assert.deepStrictEqual(s.dropped, ["import env/gone"]);
 * ```
 */
export function selectJs(records: JsRecord[], imports: Import[], mainMemory: JsName): Selection {
  const problems: GlueProblem[] = [];
  const importRecords = collect(records, "import", problems);
  const embedRecords = collect(records, "embed", problems);
  const output: JsOutput = { mainMemory, jsImport: new Map(), jsEmbed: new Map() };
  const used: JsRecord[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const imp of [...imports].sort(byName)) {
    if (imp.kind === "memory" && key(imp) === key(mainMemory)) continue;
    if (seen.has(key(imp))) continue;
    seen.add(key(imp));
    const record = importRecords.get(key(imp));
    if (record) used.push(record);
    else missing.push(`${imp.module}/${imp.name}`);
  }
  const reached = new Set<string>();
  const embedOrder: JsName[] = [];
  const visit = (r: JsRecord) => {
    for (const e of [...r.embeds].sort(byName)) {
      const embed = embedRecords.get(key(e));
      if (!embed) {
        problems.push({
          message: `Missing JS embed ${label(e)}, required by ${r.kind} ${
            label(r)
          }: no linked crate provides it; link the crate that defines it (or fix the name)`,
        });
        continue;
      }
      if (reached.has(key(embed))) continue;
      reached.add(key(embed));
      visit(embed);
      setJs(output.jsEmbed, embed.module, embed.name, embed.text);
      embedOrder.push({ module: embed.module, name: embed.name });
    }
  };
  for (const r of used) {
    setJs(output.jsImport, r.module, r.name, r.text);
    visit(r);
  }
  const names = (map: Map<string, Map<string, string>>) =>
    [...map].flatMap(([m, names]) => [...names.keys()].map((n) => ({ module: m, name: n })))
      .sort(byName).map((n) => `${n.module}/${n.name}`);
  return {
    output,
    imports: names(output.jsImport),
    embeds: names(output.jsEmbed),
    missing,
    embedOrder,
    problems,
    dropped: [
      ...[...importRecords.values()].filter((r) => !seen.has(key(r))).sort(byName)
        .map((r) => `import ${r.module}/${r.name}`),
      ...[...embedRecords.values()].filter((r) => !reached.has(key(r))).sort(byName)
        .map((r) => `embed ${r.module}/${r.name}`),
    ],
  };
}
