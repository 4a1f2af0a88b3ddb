/**
 * Generating the JS glue of a linked module: from its `js_bindgen.js_output` section (what
 * js-bindgen's linker and `linkpass link` write), or from the `js_bindgen.import`/`.embed`
 * records it still carries. Each snippet is checked by acorn to be exactly one expression and
 * spliced verbatim, parenthesized; names are string literals. See template.ts for the module
 * around them.
 * @module
 */
import { GlueError, type GlueProblem } from "../errors.ts";
import type { WasmModule } from "../wasm/module.ts";
import { type Import, type Limits, readImports } from "../wasm/types.ts";
import { type JsOutput, readJsOutput } from "./js_output.ts";
import { type JsName, readJsRecords } from "./records.ts";
import { byName, selectJs } from "./select.ts";
import { prepareSnippet, safeString } from "./snippets.ts";
import { GLUE_DTS, GLUE_TEMPLATE } from "./template.ts";

export { GlueError, type GlueProblem };
export { safeString };

/** Options of {@linkcode generateGlue}. */
export interface GlueOptions {
  /**
   * The main memory's import. Default: `js_bindgen`/`memory` when the module imports it, else the
   * module's only memory import. The glue creates it from the import's limits.
   */
  memory?: JsName;
  /** File name the glue loads by default, relative to itself (default `"module.wasm"`). */
  wasmFile?: string;
}

/** What {@linkcode generateGlue} did. */
export interface GlueReport {
  /** Imports that got a snippet, as `module/name`, sorted. */
  imports: string[];
  /** Embeds included, as `module/name`, sorted. */
  embeds: string[];
  /** Function/global/table/tag imports with no snippet: the user must provide them. */
  missing: string[];
  /** Snippets dropped as dead: `import module/name` (not imported) or `embed module/name`. */
  dropped: string[];
  /** The main memory the glue creates, when the module imports one. */
  memory?: JsName & { initial: string; maximum?: string; shared: boolean; is64: boolean };
}

/** The generated glue. */
export interface Glue {
  /** The ES module. */
  js: string;
  /** Its TypeScript declarations. */
  dts: string;
  /** What went into the glue and what did not. */
  report: GlueReport;
}

/** Picks the main memory import: the wanted one, `js_bindgen`/`memory`, or the only one. */
export function mainMemoryImport(
  imports: Import[],
  wanted?: JsName,
): (Import & { kind: "memory" }) | undefined {
  const memories = imports.filter((i): i is Import & { kind: "memory" } => i.kind === "memory");
  const find = (n?: JsName) =>
    n && memories.find((m) => m.module === n.module && m.name === n.name);
  return find(wanted) ?? find({ module: "js_bindgen", name: "memory" }) ??
    (memories.length === 1 ? memories[0] : undefined);
}

/**
 * Generates the glue of a module that still carries its `js_bindgen.import`/`.embed` records.
 * Throws {@linkcode GlueError} when the records are inconsistent or a snippet does not parse, and
 * WasmParseError for malformed records.
 *
 * @example Glue for a module with one import snippet
 * ```ts
 * import assert from "node:assert";
 * import { generateGlue } from "./generate.ts";
 * import { encodeJsRecord } from "./records.ts";
 * import { WasmModule } from "../wasm/module.ts";
 * const module = WasmModule.empty();
 * module.addCustomSection("js_bindgen.import", encodeJsRecord({ module: "m", name: "f", text: "() => 1" }));
 * const { report } = generateGlue(module);
 * assert.deepStrictEqual(report.dropped, ["import m/f"]); // the module does not import m/f
 * ```
 */
export function generateGlue(module: WasmModule, options: GlueOptions = {}): Glue {
  const imports = readImports(module);
  const memory = mainMemoryImport(imports, options.memory);
  const mainMemory = memory ?? options.memory ?? { module: "js_bindgen", name: "memory" };
  const selection = selectJs(readJsRecords(module), imports, mainMemory);
  let rendered: { js: string; dts: string } | undefined;
  try {
    rendered = renderGlue(selection.output, memory?.memory, options.wasmFile, selection.embedOrder);
  } catch (e) {
    if (!(e instanceof GlueError)) throw e;
    throw new GlueError([...selection.problems, ...e.problems]);
  }
  if (selection.problems.length) throw new GlueError(selection.problems);
  const { js, dts } = rendered;
  return {
    js,
    dts,
    report: {
      imports: selection.imports,
      embeds: selection.embeds,
      missing: selection.missing,
      dropped: selection.dropped,
      ...memoryReport(memory),
    },
  };
}

/**
 * Generates the glue of a module from its `js_bindgen.js_output` section, or returns undefined
 * when it has none. The main memory's limits come from the module's import of it.
 */
export function glueFromJsOutput(module: WasmModule, options: GlueOptions = {}): Glue | undefined {
  const output = readJsOutput(module);
  if (!output) return undefined;
  const imports = readImports(module);
  const memory = imports.find((i): i is Import & { kind: "memory" } =>
    i.kind === "memory" && i.module === output.mainMemory.module &&
    i.name === output.mainMemory.name
  );
  const { js, dts } = renderGlue(output, memory?.memory, options.wasmFile);
  const provided = (i: Import) =>
    output.jsImport.get(i.module)?.has(i.name) || (memory !== undefined && i === memory);
  const names = (map: Map<string, Map<string, string>>) =>
    [...map].flatMap(([m, names]) => [...names.keys()].map((n) => ({ module: m, name: n })))
      .sort(byName).map((n) => `${n.module}/${n.name}`);
  return {
    js,
    dts,
    report: {
      imports: names(output.jsImport),
      embeds: names(output.jsEmbed),
      missing: imports.filter((i) => !provided(i)).map((i) => `${i.module}/${i.name}`),
      dropped: [],
      ...memoryReport(memory),
    },
  };
}

function memoryReport(memory: (Import & { kind: "memory" }) | undefined) {
  if (!memory) return {};
  const limits = memory.memory;
  return {
    memory: {
      module: memory.module,
      name: memory.name,
      initial: String(limits.min),
      ...(limits.max !== undefined ? { maximum: String(limits.max) } : {}),
      shared: limits.shared,
      is64: limits.is64,
    },
  };
}

/**
 * Renders the glue module for a {@linkcode JsOutput}. `memory` gives the limits the glue creates
 * the main memory with (none: the glue creates no memory). Throws {@linkcode GlueError} naming
 * every snippet that is not exactly one JS expression.
 *
 * @example The snippet is spliced as written
 * ```ts
 * import assert from "node:assert";
 * import { renderGlue } from "./generate.ts";
 * const jsImport = new Map([["env", new Map([["f", "new (a?.b)()"]])]]);
 * const { js } = renderGlue({ mainMemory: { module: "js_bindgen", name: "memory" }, jsImport, jsEmbed: new Map() });
 * assert.ok(js.includes("(\nnew (a?.b)()\n)"));
 * ```
 */
export function renderGlue(
  output: JsOutput,
  memory?: Limits,
  wasmFile = "module.wasm",
  embedOrder?: JsName[],
): { js: string; dts: string } {
  const problems: GlueProblem[] = [];
  const sorted = (map: Map<string, Map<string, string>>) =>
    [...map].flatMap(([module, names]) => [...names.keys()].map((name) => ({ module, name })))
      .sort(byName);
  const assignments = (
    map: Map<string, Map<string, string>>,
    kind: string,
    target: string,
    order: JsName[],
  ) => {
    const lines: string[] = [];
    for (const { module, name } of order) {
      const text = map.get(module)?.get(name);
      if (text === undefined) continue;
      {
        const prepared = prepareSnippet(text);
        if ("error" in prepared) {
          const { line, column, reason, frame } = prepared.error;
          problems.push({
            message: `Invalid JS in ${kind} ${JSON.stringify(module)}/${
              JSON.stringify(name)
            } at ${line}:${column} of the snippet: ${reason}`,
            frame,
          });
          continue;
        }
        lines.push(
          `    namespace(${target}, ${safeString(module)})[${
            safeString(name)
          }] = ${prepared.source};`,
        );
      }
    }
    return lines.join("\n");
  };
  const embeds = assignments(
    output.jsEmbed,
    "embed",
    "jsEmbed",
    embedOrder ?? sorted(output.jsEmbed),
  );
  const imports = assignments(output.jsImport, "import", "importObject", sorted(output.jsImport));
  if (problems.length) throw new GlueError(problems);
  const memoryCode = memory
    ? `{ module: ${safeString(output.mainMemory.module)}, name: ${
      safeString(output.mainMemory.name)
    }, descriptor: ${descriptor(memory)} }`
    : "null";
  const values: Record<string, string> = {
    MEMORY: memoryCode,
    WASM: safeString(wasmFile),
    EMBEDS: embeds,
    IMPORTS: imports,
  };
  const js = "// Generated by linkpass from the module's js_bindgen records. Do not edit.\n" +
    GLUE_TEMPLATE.replace(/\/\*@LINKPASS_([A-Z]+)@\*\//g, (_, name: string) => values[name]);
  return { js, dts: GLUE_DTS };
}

/** The `WebAssembly.Memory` descriptor for the import's limits. */
function descriptor(limits: Limits): string {
  const num = (v: bigint) => limits.is64 ? `${v}n` : String(v);
  const parts: string[] = [];
  if (limits.is64) parts.push(`address: "i64"`);
  parts.push(`initial: ${num(limits.min)}`);
  if (limits.max !== undefined) parts.push(`maximum: ${num(limits.max)}`);
  if (limits.shared) parts.push("shared: true");
  return `{ ${parts.join(", ")} }`;
}
