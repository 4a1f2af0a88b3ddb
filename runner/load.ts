/**
 * Loading a linked module with its glue generated in memory: the glue's ES module is imported
 * from a `data:` URL, so nothing is written next to the module.
 * @module
 */
import { generateGlue, type GlueReport } from "../glue/generate.ts";
import { UsageError } from "../errors.ts";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { WasmModule } from "../wasm/module.ts";
import { readExports, readFunctions, readImports, readTypes, type ValType } from "../wasm/types.ts";

/** Exit code of a trap or a failed test run: Rust's panic exit code. */
export const PANIC_EXIT_CODE = 101;

/** Options of `runModule` (run.ts) and `runTests` (libtest.ts). */
export interface RunOptions {
  /** Path or name of the module, for messages and `argv[0]`. */
  file?: string;
  /** Program arguments (binaries) or libtest arguments (test modules). */
  args?: string[];
  /** Receives the runner's own output, with newlines. */
  onOutput?: (stream: "stdout" | "stderr", text: string) => void;
  /** Extra imports, for imports no snippet provides. */
  imports?: WebAssembly.Imports;
}

/** `RuntimeError: unreachable` for traps, the message for other exceptions. */
export function describeThrown(e: unknown): string {
  if (e instanceof WebAssembly.RuntimeError) return `RuntimeError: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `uncaught exception: ${String(e)}`;
}

/** The part of the generated glue module the runner uses. */
export interface GlueClass {
  new (module: WebAssembly.Module, memory?: WebAssembly.Memory): {
    readonly importObject: WebAssembly.Imports;
    readonly memory: WebAssembly.Memory | undefined;
    extendImportObject(imports: WebAssembly.Imports): void;
    instantiate(): Promise<{ instance: WebAssembly.Instance; exports: WebAssembly.Exports }>;
  };
}

/** A compiled module with its glue class. */
export interface LoadedModule {
  compiled: WebAssembly.Module;
  JsBindgen: GlueClass;
  /** The generated glue's report (absent when the sibling glue file was used). */
  report?: GlueReport;
  /** The glue file used instead of generating glue, when there was one. */
  glueFile?: string;
}

/** True when the module still carries the JS snippets the glue is generated from. */
function hasSnippets(module: WasmModule): boolean {
  return module.customSections().some((s) =>
    s.name === "js_bindgen.import" || s.name === "js_bindgen.embed"
  );
}

/**
 * The glue written next to a module by `linkpass link` / `opt --js-glue` (`app.wasm` → `app.js`),
 * used when the link already consumed the module's snippet sections.
 */
async function siblingGlue(
  file: string,
): Promise<{ JsBindgen: GlueClass; path: string } | undefined> {
  if (!file.endsWith(".wasm")) return undefined;
  const path = resolve(`${file.slice(0, -".wasm".length)}.js`);
  try {
    await Deno.stat(path);
  } catch {
    return undefined;
  }
  const glue = await import(pathToFileURL(path).href) as { JsBindgen?: GlueClass };
  if (typeof glue.JsBindgen !== "function") {
    throw new UsageError(
      `Cannot run "${file}": "${path}" exists but is not linkpass glue (it exports no JsBindgen class); remove it or regenerate it with linkpass`,
    );
  }
  return { JsBindgen: glue.JsBindgen, path };
}

/**
 * Imports the module's glue — the sibling `<stem>.js` when the link already turned the snippet
 * sections into it, otherwise glue generated in memory — and compiles the module.
 */
export async function loadModule(
  module: WasmModule,
  bytes: Uint8Array,
  file: string,
): Promise<LoadedModule> {
  const sibling = hasSnippets(module) ? undefined : await siblingGlue(file);
  if (sibling) {
    return {
      compiled: await compile(bytes, file),
      JsBindgen: sibling.JsBindgen,
      glueFile: sibling.path,
    };
  }
  const glue = generateGlue(module, { wasmFile: file.split("/").pop() });
  const url = `data:text/javascript;base64,${base64(new TextEncoder().encode(glue.js))}`;
  const { JsBindgen } = await import(url) as { JsBindgen: GlueClass };
  return { compiled: await compile(bytes, file), JsBindgen, report: glue.report };
}

async function compile(bytes: Uint8Array, file: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new UsageError(`Cannot compile "${file}": ${(e as Error).message}`);
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
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

/** The imports of `compiled` that `imports` does not provide, as `"module"/"name"`. */
export function unprovidedImports(
  compiled: WebAssembly.Module,
  imports: WebAssembly.Imports,
): string[] {
  return WebAssembly.Module.imports(compiled).filter((i) => {
    const mod = imports[i.module];
    return !mod || !Object.hasOwn(mod, i.name);
  }).map((i) => `"${i.module}"/"${i.name}"`);
}

/** The lines of a JS stack that are WebAssembly frames. */
export function wasmFrames(error: unknown): string[] {
  const stack = error instanceof Error ? error.stack ?? "" : "";
  return stack.split("\n").filter((l) => /wasm-function\[|wasm:\/\//.test(l)).map((l) =>
    `  ${l.trim()}`
  );
}
