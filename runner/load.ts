/**
 * Where the runner's glue comes from, in this order: the module's `js_bindgen.js_output` (what
 * js-bindgen's linker and `linkpass link` write), its `js_bindgen.import`/`.embed` records (a
 * module linked by a plain wasm-ld), or the `<stem>.js` written next to it by `opt --js-glue`.
 * @module
 */
import { resolve } from "node:path";
import { generateGlue, glueFromJsOutput, type GlueReport } from "../glue/generate.ts";
import { UsageError } from "../errors.ts";
import type { WasmModule } from "../wasm/module.ts";
import { readExports, readFunctions, readImports, readTypes, type ValType } from "../wasm/types.ts";

/** The glue's source and where it came from. */
export interface GlueSource {
  /** The ES module text; it exports the `JsBindgen` class. */
  js: string;
  /** `js_output`, `records` (generated from the snippet sections), or `sibling` (a file). */
  origin: "js_output" | "records" | "sibling";
  /** The sibling file, when that is where it came from. */
  path?: string;
  /** The generator's report, when the glue was generated. */
  report?: GlueReport;
}

/** True when the module still carries the JS snippets the glue is generated from. */
function hasSnippets(module: WasmModule): boolean {
  return module.customSections().some((s) =>
    s.name === "js_bindgen.import" || s.name === "js_bindgen.embed"
  );
}

/**
 * The glue of a module (see the module documentation). `file` is the module's path: the sibling
 * glue is looked for next to it, and the glue loads that file name by default.
 */
export async function glueSource(module: WasmModule, file: string): Promise<GlueSource> {
  const wasmFile = file.split("/").pop();
  const fromOutput = glueFromJsOutput(module, { wasmFile });
  if (fromOutput) return { js: fromOutput.js, origin: "js_output", report: fromOutput.report };
  if (!hasSnippets(module) && file.endsWith(".wasm")) {
    const path = resolve(`${file.slice(0, -".wasm".length)}.js`);
    let js: string | undefined;
    try {
      js = await Deno.readTextFile(path);
    } catch { /* no sibling glue */ }
    if (js !== undefined) {
      if (!/\bexport\s+class\s+JsBindgen\b/.test(js)) {
        throw new UsageError(
          `Cannot run "${file}": "${path}" exists but is not linkpass glue (it exports no JsBindgen class); remove it or regenerate it with linkpass`,
        );
      }
      return { js, origin: "sibling", path };
    }
  }
  const glue = generateGlue(module, { wasmFile });
  return { js: glue.js, origin: "records", report: glue.report };
}

/** Compiles a module, as a one-line user error when the engine refuses it. */
export async function compile(bytes: Uint8Array, file: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new UsageError(`Cannot compile "${file}": ${(e as Error).message}`);
  }
}

/** A `data:` URL of an ES module's text (what the in-process engine imports). */
export function moduleUrl(js: string): string {
  const bytes = new TextEncoder().encode(js);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:text/javascript;base64,${btoa(s)}`;
}

/** Parameter and result types of an exported function, or undefined when there is no such export. */
export function exportSignature(
  module: WasmModule,
  name: string,
): { params: ValType[]; results: ValType[] } | undefined {
  const exp = readExports(module).find((e) => e.name === name && e.kind === "func");
  if (!exp) return undefined;
  const imported = readImports(module).filter((i) => i.kind === "func");
  const types = readTypes(module);
  const typeIndex = exp.index < imported.length
    ? (imported[exp.index] as { type: number }).type
    : readFunctions(module)[exp.index - imported.length];
  const type = types[typeIndex];
  return type?.kind === "func" ? { params: type.params, results: type.results } : undefined;
}
