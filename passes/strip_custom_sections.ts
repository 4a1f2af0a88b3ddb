/**
 * Pass `strip-custom-sections`: removes custom sections by name, glob, regex or category, on final
 * modules and on relocatable objects (where `reloc.*` targets and section symbols stay right).
 * @module
 */
import {
  encodeLinking,
  encodeRelocs,
  readLinking,
  readRelocs,
  type RelocSection,
  RelocType,
  type SymbolInfo,
  SymbolKind,
} from "../wasm/linking.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { type Section, sectionByteLength, type WasmModule } from "../wasm/module.ts";
import type { PassReport } from "./types.ts";
import {
  definePass,
  list,
  type OptionSpec,
  type PassFactory,
  type PassInput,
  type WithDefault,
} from "./define.ts";

/** Named groups of custom sections. */
export const CATEGORIES: Record<string, { description: string; test: (name: string) => boolean }> =
  {
    debug: {
      description: "DWARF (.debug_*), sourceMappingURL, external_debug_info",
      test: (n) =>
        n.startsWith(".debug_") || n === "sourceMappingURL" || n === "external_debug_info",
    },
    names: { description: "the name section", test: (n) => n === "name" },
    producers: { description: "the producers section", test: (n) => n === "producers" },
    "target-features": {
      description: "the target_features section",
      test: (n) => n === "target_features",
    },
    "js-bindgen": { description: "js_bindgen.* records", test: (n) => n.startsWith("js_bindgen.") },
    all: { description: "every custom section", test: () => true },
  };

/** A compiled selector. */
export type Matcher = (name: string) => boolean;

/**
 * Compiles one selector: category, `/regex/` (anchored), `prefix*` glob, or exact name.
 *
 * @example Selectors
 * ```ts
 * import { compileSelector } from "./strip_custom_sections.ts";
 * import assert from "node:assert";
 * assert.ok(compileSelector("debug")(".debug_info"));
 * assert.ok(compileSelector("js_bindgen.*")("js_bindgen.import"));
 * assert.ok(!compileSelector("/deb/")(".debug_info"));
 * ```
 */
export function compileSelector(selector: string): Matcher {
  if (typeof selector !== "string" || selector === "") {
    throw new TypeError("A custom-section selector must be a non-empty string");
  }
  if (CATEGORIES[selector]) return CATEGORIES[selector].test;
  if (selector.length >= 2 && selector.startsWith("/") && selector.endsWith("/")) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${selector.slice(1, -1)})$`, "u");
    } catch (e) {
      throw new RangeError(
        `Invalid regular expression in selector "${selector}": ${(e as Error).message}`,
      );
    }
    return (n) => re.test(n);
  }
  const star = selector.indexOf("*");
  if (star >= 0) {
    if (star !== selector.length - 1) {
      throw new RangeError(
        `Invalid selector "${selector}": only a trailing "*" is supported; use /regex/ for more`,
      );
    }
    const prefix = selector.slice(0, -1);
    return (n) => n.startsWith(prefix);
  }
  return (n) => n === selector;
}

/** True for the sections a relocatable object cannot lose. */
function isStructural(name: string): boolean {
  return name === "linking" || name.startsWith("reloc.");
}

/**
 * True for the dynamic-linking metadata of a PIC module (`dylink.0`, or `dylink` before LLVM 13):
 * loaders (emscripten's `loadWebAssemblyModule`, ...) refuse a side or main module without it.
 */
function isDylink(name: string): boolean {
  return name === "dylink.0" || name === "dylink";
}

/** The options of {@linkcode stripCustomSections}, as its definition declares them. */
export interface StripSchema extends Record<string, OptionSpec> {
  /** Selectors of the sections to remove. */
  remove: WithDefault<string[]>;
  /** Selectors of the sections to keep (wins over `remove`). */
  keep: WithDefault<string[]>;
}

/**
 * The `strip-custom-sections` pass: removes custom sections by name, glob, regex or category.
 * Selectors that match no section of the module are reported as warnings (with a "did you mean"
 * for near misses of category names).
 *
 * @example Strip everything but the name section
 * ```ts
 * import assert from "node:assert";
 * import { runPipeline } from "../pipeline.ts";
 * import { stripCustomSections } from "./strip_custom_sections.ts";
 * const input = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const { module, report } = await runPipeline(input, [stripCustomSections({ keep: "name" })]);
 * assert.deepStrictEqual(module.customSections().map((s) => s.name), ["name"]);
 * assert.ok(report.outputBytes < report.inputBytes);
 * ```
 */
export const stripCustomSections: PassFactory<StripSchema> = definePass<StripSchema>({
  name: "strip-custom-sections",
  description: "remove custom sections by name, prefix*, /regex/ or category",
  level: "sections",
  main: "remove",
  options: {
    remove: list({
      help: `which (repeatable): a category (${
        Object.keys(CATEGORIES).join(", ")
      }), an exact name, a prefix* glob or an anchored /regex/`,
      value: "selector",
      default: ["all"],
      check: (v: string) => void compileSelector(v),
    }),
    keep: list({
      help: "custom sections to keep even when selected (repeatable; wins over a selection)",
      value: "selector",
      flag: "keep",
      default: [],
      check: (v: string) => void compileSelector(v),
    }),
  },
  create: ({ remove, keep }) => {
    const removers = remove.map((sel) => ({ sel, test: compileSelector(sel), hits: 0 }));
    const keepers = keep.map(compileSelector);
    const selected = (name: string) => {
      let hit = false;
      for (const r of removers) {
        if (r.test(name)) {
          r.hits++;
          hit = true;
        }
      }
      return hit && !keepers.some((m) => m(name));
    };
    return {
      run(module, ctx) {
        for (const r of removers) r.hits = 0;
        const report = strip(module, selected);
        for (const r of removers) {
          if (r.hits === 0 && r.sel !== "all") ctx.warn(unmatched(r.sel));
        }
        return report;
      },
      // Custom sections only: no code, so no feature.
      preservesFeatures: true,
    };
  },
});

/** Options of {@linkcode stripCustomSections}. */
export type StripOptions = PassInput<typeof stripCustomSections.definition.options>;

/** The warning for a selector that matched nothing, with a "did you mean" for near misses. */
function unmatched(selector: string): string {
  const near = Object.keys(CATEGORIES).find((c) => editDistance(c, selector) <= 2);
  return `the selector "${selector}" matched no custom section${
    near && near !== selector ? `; did you mean the category "${near}"?` : ""
  }`;
}

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function strip(module: WasmModule, selected: Matcher): PassReport {
  const before = module.sections.reduce((n, s) => n + sectionByteLength(s), 0);
  const relocatable = module.isRelocatable;
  const drop = new Set<Section>();
  const protectedNames: string[] = [];
  for (const s of module.sections) {
    if (s.id !== 0 || !selected(s.name)) continue;
    if ((relocatable && isStructural(s.name)) || isDylink(s.name)) protectedNames.push(s.name);
    else drop.add(s);
  }
  const sizes = new Map([...drop].map((s) => [s, sectionByteLength(s)]));
  let keptReferenced: string[] = [];
  if (relocatable && drop.size) keptReferenced = stripObject(module, drop);
  else module.sections = module.sections.filter((s) => !drop.has(s));
  const after = module.sections.reduce((n, s) => n + sectionByteLength(s), 0);
  const removed = [...sizes].filter(([s]) => !module.sections.includes(s))
    .map(([s, bytes]) => ({ name: s.name, bytes }));
  const report: PassReport = { removed, bytesSaved: before - after };
  if (keptReferenced.length) report.keptReferenced = keptReferenced;
  if (protectedNames.length) report.keptForLinking = protectedNames;
  return report;
}

/**
 * Drops sections from a relocatable object. The `reloc.X` of a dropped X goes too; every other
 * `reloc.*` target and section symbol is renumbered; section symbols of dropped sections are
 * removed (symbol indices renumbered everywhere). A selected section that a surviving relocation
 * still points into (through its section symbol, e.g. `.debug_str` from `.debug_info`) is kept
 * whole: the linker checks those offsets against the section, so neither dropping it nor an empty
 * placeholder would link. Returns the names of such kept sections.
 */
export function stripObject(module: WasmModule, drop: Set<Section>): string[] {
  const sections = module.sections;
  const isReloc = (s: Section) => s.id === 0 && s.name.startsWith("reloc.");
  const relocs = new Map<Section, RelocSection>();
  for (const s of sections) if (isReloc(s)) relocs.set(s, readRelocs(module, s));
  const linkingSection = module.section("linking");
  const linking = readLinking(module);
  const symbols = linking?.symbols ?? [];
  checkIndices(module, relocs, symbols, linking?.initFuncs ?? []);
  const dropRelocsOf = () => {
    for (const [s, r] of relocs) if (drop.has(sections[r.target])) drop.add(s);
  };
  dropRelocsOf();
  // Section symbols of dropped sections, and whether surviving relocations still use them.
  const used = new Set<number>();
  for (const [s, r] of relocs) {
    if (drop.has(s)) continue;
    for (const e of r.entries) if (e.type !== RelocType.TYPE_INDEX_LEB) used.add(e.index);
  }
  const kept: string[] = [];
  const removedSymbols = new Set<number>();
  symbols.forEach((sym, i) => {
    if (sym.kind !== SymbolKind.section) return;
    const target = sections[sym.index!];
    if (!drop.has(target)) return;
    if (used.has(i)) {
      drop.delete(target);
      kept.push(target.name);
    } else removedSymbols.add(i);
  });
  // A kept section keeps its own relocations.
  for (const [s, r] of relocs) if (drop.has(s) && !drop.has(sections[r.target])) drop.delete(s);
  const newSection = new Map<number, number>();
  sections.forEach((s, i) => {
    if (!drop.has(s)) newSection.set(i, newSection.size);
  });
  const newSymbol = new Map<number, number>();
  symbols.forEach((_, i) => {
    if (!removedSymbols.has(i)) newSymbol.set(i, newSymbol.size);
  });
  for (const [s, r] of relocs) {
    if (drop.has(s)) continue;
    let changed = newSection.get(r.target) !== r.target;
    r.target = newSection.get(r.target)!;
    for (const e of r.entries) {
      if (e.type === RelocType.TYPE_INDEX_LEB) continue;
      const to = newSymbol.get(e.index);
      if (to === undefined) {
        // Only a corrupt object gets here: a valid one keeps the sections its relocations use.
        throw new WasmParseError(
          `malformed ${s.name} section: a relocation at 0x${
            e.offset.toString(16)
          } names symbol ${e.index}, the symbol of a section that is being removed`,
          Math.max(0, s.payloadOffset),
        );
      }
      if (to !== e.index) {
        e.index = to;
        changed = true;
      }
    }
    if (changed) module.setPayload(s, encodeRelocs(r));
  }
  if (linking && linkingSection) {
    let changed = removedSymbols.size > 0;
    linking.symbols = symbols.filter((_, i) => !removedSymbols.has(i));
    for (const sym of linking.symbols) {
      if (sym.kind !== SymbolKind.section) continue;
      const to = newSection.get(sym.index!)!;
      if (to !== sym.index) {
        sym.index = to;
        changed = true;
      }
    }
    for (const f of linking.initFuncs) f.symbol = newSymbol.get(f.symbol)!;
    if (changed) module.setPayload(linkingSection, encodeLinking(linking));
  }
  module.sections = sections.filter((s) => !drop.has(s));
  return kept;
}

/** Rejects relocations and section symbols that point past the section list or symbol table. */
function checkIndices(
  module: WasmModule,
  relocs: Map<Section, RelocSection>,
  symbols: SymbolInfo[],
  initFuncs: { symbol: number }[],
): void {
  const bad = (s: Section, what: string): never => {
    throw new WasmParseError(`malformed ${s.name} section: ${what}`, Math.max(0, s.payloadOffset));
  };
  for (const [s, r] of relocs) {
    const target = module.sections[r.target];
    if (!target) bad(s, `target section ${r.target} does not exist`);
    if (target.id === 0 && (target.name === "linking" || target.name.startsWith("reloc."))) {
      bad(s, `target section ${r.target} is "${target.name}", which cannot have relocations`);
    }
    for (const e of r.entries) {
      if (e.type !== RelocType.TYPE_INDEX_LEB && e.index >= symbols.length) {
        bad(s, `a relocation names symbol ${e.index}, but the symbol table has ${symbols.length}`);
      }
    }
  }
  const linking = module.section("linking")!;
  for (const sym of symbols) {
    if (sym.kind === SymbolKind.section && sym.index! >= module.sections.length) {
      bad(linking, `a section symbol names section ${sym.index}, which does not exist`);
    }
  }
  for (const f of initFuncs) {
    if (f.symbol >= symbols.length) {
      bad(linking, `an init function names symbol ${f.symbol}, which does not exist`);
    }
  }
}
