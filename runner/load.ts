/**
 * Loading a linked module with its glue generated in memory: the glue's ES module is imported
 * from a `data:` URL, so nothing is written next to the module.
 * @module
 */
import { generateGlue, type GlueReport } from "../glue/generate.ts";
import { UsageError } from "../passes/types.ts";
import type { WasmModule } from "../wasm/module.ts";
import { readExports, readFunctions, readImports, readTypes, type ValType } from "../wasm/types.ts";

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
  report: GlueReport;
}

/** Generates the glue, imports it and compiles the module. */
export async function loadModule(
  module: WasmModule,
  bytes: Uint8Array,
  file: string,
): Promise<LoadedModule> {
  const glue = generateGlue(module, { wasmFile: file.split("/").pop() });
  const url = `data:text/javascript;base64,${base64(new TextEncoder().encode(glue.js))}`;
  const { JsBindgen } = await import(url) as { JsBindgen: GlueClass };
  let compiled: WebAssembly.Module;
  try {
    compiled = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new UsageError(`Cannot compile "${file}": ${(e as Error).message}`);
  }
  return { compiled, JsBindgen, report: glue.report };
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
