/**
 * The `run` command's library: runs a linked module in this JS host with its glue generated in
 * memory. A module with a `js_bindgen.test` section runs as a test harness (libtest.ts); any
 * other module runs as a binary: `main` (with argc/argv when it takes them) or `_start`.
 *
 * Library code: output of the runner itself goes through `onOutput`; what the module prints
 * through its snippets goes to the host's console, as it would in an application.
 * @module
 */
import { UsageError } from "../errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { TEST_SECTION } from "./libtest.ts";
import {
  describeThrown,
  exportSignature,
  loadModule,
  PANIC_EXIT_CODE,
  type RunOptions,
  unprovidedImports,
  wasmFrames,
} from "./load.ts";

export { describeThrown, PANIC_EXIT_CODE, type RunOptions };

/**
 * Runs a module and returns the process exit code.
 *
 * @example Run a module (ignored: needs a linked module on disk)
 * ```ts ignore
 * import { runModule } from "./run.ts";
 * const code = await runModule(await Deno.readFile("app.wasm"), { file: "app.wasm", args: ["x"] });
 * ```
 */
export async function runModule(bytes: Uint8Array, options: RunOptions = {}): Promise<number> {
  const file = options.file ?? "module.wasm";
  const module = WasmModule.parse(bytes, { file });
  if (module.customSections(TEST_SECTION).length) {
    const { runTests } = await import("./libtest.ts");
    return await runTests(module, bytes, options);
  }
  return await runBinary(module, bytes, options);
}

async function runBinary(
  module: WasmModule,
  bytes: Uint8Array,
  options: RunOptions,
): Promise<number> {
  const file = options.file ?? "module.wasm";
  const out = options.onOutput ?? (() => {});
  const entry = ["main", "_start"].find((n) => exportSignature(module, n));
  if (!entry) {
    throw new UsageError(
      `Cannot run "${file}": it exports neither "main" nor "_start" and has no js_bindgen.test section; link a binary (or a test harness)`,
    );
  }
  const sig = exportSignature(module, entry)!;
  const loaded = await loadModule(module, bytes, file);
  const glue = new loaded.JsBindgen(loaded.compiled);
  if (options.imports) glue.extendImportObject(options.imports);
  const missing = unprovidedImports(loaded.compiled, glue.importObject);
  if (missing.length) {
    throw new UsageError(
      `Cannot run "${file}": no JS for the import${missing.length > 1 ? "s" : ""} ${
        missing.join(", ")
      }; embed a snippet for ${
        missing.length > 1 ? "them" : "it"
      } (js_bindgen.import) or pass it in the imports`,
    );
  }
  const { exports } = await glue.instantiate();
  const fn = exports[entry] as (...args: unknown[]) => unknown;
  let args: unknown[] = [];
  if (sig.params.length === 2) {
    const memory = glue.memory ?? (exports.memory as WebAssembly.Memory | undefined);
    if (!memory) {
      throw new UsageError(`Cannot pass arguments to "${file}": it has no memory`);
    }
    args = writeArgv(memory, [file, ...(options.args ?? [])], sig.params[1] === "i64");
    if (sig.params[0] === "i64") args[0] = BigInt(args[0] as number);
  } else if (sig.params.length !== 0) {
    throw new UsageError(
      `Cannot run "${file}": "${entry}" takes (${
        sig.params.join(", ")
      }); a binary's entry takes nothing or (argc, argv)`,
    );
  }
  let result: unknown;
  try {
    result = fn(...args);
  } catch (e) {
    out("stderr", `error: "${file}" trapped: ${describeThrown(e)}\n`);
    const frames = wasmFrames(e);
    if (frames.length) out("stderr", `wasm stack:\n${frames.join("\n")}\n`);
    return PANIC_EXIT_CODE;
  }
  if (typeof result === "bigint") return Number(BigInt.asIntN(32, result));
  return typeof result === "number" ? result | 0 : 0;
}

/**
 * Writes C-style `argv` into fresh pages at the end of `memory` (the module's allocator only
 * ever grows memory past them) and returns `[argc, argv]`.
 */
export function writeArgv(memory: WebAssembly.Memory, argv: string[], is64: boolean): unknown[] {
  const enc = new TextEncoder();
  const strings = argv.map((a) => enc.encode(a + "\0"));
  const ptrSize = is64 ? 8 : 4;
  const tableSize = ptrSize * (argv.length + 1);
  const size = tableSize + strings.reduce((n, s) => n + s.length, 0);
  const pages = Math.ceil(size / 65536);
  const grown = memory.grow(is64 ? BigInt(pages) as unknown as number : pages);
  const base = Number(grown) * 65536;
  const view = new DataView(memory.buffer);
  let at = base + tableSize;
  strings.forEach((s, i) => {
    new Uint8Array(memory.buffer, at, s.length).set(s);
    if (is64) view.setBigUint64(base + i * 8, BigInt(at), true);
    else view.setUint32(base + i * 4, at, true);
    at += s.length;
  });
  return is64 ? [argv.length, BigInt(base)] : [argv.length, base];
}
