/**
 * The `run` command's library, a drop-in for js-bindgen's runner: runs a linked module with its
 * glue (load.ts) in an engine (engines.ts). A module with `js_bindgen.test` records, or the
 * `js_bindgen.is_test` marker, runs as a test harness (libtest.ts); any other module runs as a
 * binary: `main` (with argc/argv when it takes them) or `_start`. As in js-bindgen's runner, a
 * binary of a module marked `js_bindgen.is_compat` gets an empty argv; without the marker (a
 * `--web` link, or a module no js-bindgen linker marked) it gets the file and the arguments.
 *
 * Library code: everything the run prints (the runner's lines and the module's console output)
 * goes through `onOutput`.
 * @module
 */
import { UsageError } from "../errors.ts";
import { IS_COMPAT_SECTION, IS_TEST_SECTION } from "../glue/js_output.ts";
import { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";
import { readNames } from "../wasm/custom.ts";
import { chooseEngine, type EngineChoice, type EngineName, runInProcess } from "./engines.ts";
import { PANIC_EXIT_CODE, type RunData, type RunResult } from "./harness.js";
import { planTests, TEST_SECTION } from "./libtest.ts";
import { compile, exportSignature, glueSource, moduleUrl } from "./load.ts";

export { PANIC_EXIT_CODE };
export { describeThrown, writeArgv } from "./harness.js";

/** Options of {@linkcode runModule}. */
export interface RunOptions {
  /** Path or name of the module, for messages and `argv[0]`. */
  file?: string;
  /** Program arguments (binaries) or libtest arguments (test modules). */
  args?: string[];
  /** Receives everything the run prints, with newlines. */
  onOutput?: (stream: "stdout" | "stderr", text: string) => void;
  /** Extra imports, for imports no snippet provides (the in-process `deno` engine only). */
  imports?: WebAssembly.Imports;
  /** The engine (default: chosen from the environment, see engines.ts). */
  engine?: EngineName | string;
  /** Environment lookup (default: Deno.env). */
  env?: (name: string) => string | undefined;
}

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
  const out = options.onOutput ?? (() => {});
  const engine = chooseEngine({
    explicit: options.engine,
    env: options.env ?? readEnv,
  });
  const module = WasmModule.parse(bytes, { file });
  let data: RunData;
  if (module.customSections(TEST_SECTION).length || module.customSections(IS_TEST_SECTION).length) {
    const plan = planTests(module, file, options.args ?? []);
    if (plan.kind === "done") {
      out("stdout", plan.output);
      return 0;
    }
    data = plan.data;
  } else {
    data = binaryRun(module, file, options.args ?? []);
  }
  const moduleName = readNames(module)?.module;
  if (moduleName !== undefined) data.moduleName = moduleName;
  const glue = await glueSource(module, file);
  let result: RunResult;
  if (engine.name === "deno" && !engine.path) {
    result = await runHere(bytes, file, glue.js, data, out, options.imports);
  } else {
    if (options.imports) {
      throw new UsageError(
        `Extra imports can only be passed to the in-process deno engine, not to ${engine.name}`,
      );
    }
    result = await runElsewhere(engine, { wasm: bytes, glue: glue.js, data }, out);
  }
  if (result.error !== undefined) throw new UsageError(result.error);
  return result.status;
}

/** Reads an environment variable; without `--allow-env` the variable counts as unset. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
      return undefined;
    }
    throw e;
  }
}

/** The run of a binary: its entry point, and argv as js-bindgen's runner passes it. */
function binaryRun(module: WasmModule, file: string, args: string[]): RunData {
  const entry = ["main", "_start"].find((n) => exportSignature(module, n));
  if (!entry) {
    throw new UsageError(
      `Cannot run "${file}": it exports neither "main" nor "_start" and has no js_bindgen.test section; link a binary (or a test harness)`,
    );
  }
  const sig = exportSignature(module, entry)!;
  if (sig.params.length !== 0 && sig.params.length !== 2) {
    throw new UsageError(
      `Cannot run "${file}": "${entry}" takes (${
        sig.params.join(", ")
      }); a binary's entry takes nothing or (argc, argv)`,
    );
  }
  const compat = module.customSections(IS_COMPAT_SECTION).length > 0;
  const memory = readImports(module).find((i) => i.kind === "memory");
  return {
    kind: "binary",
    file,
    entry,
    params: sig.params,
    argv: compat ? [] : [file, ...args],
    ...(memory ? { memory: { module: memory.module, name: memory.name } } : {}),
  };
}

/** The in-process `deno` engine: the harness and the glue are imported into this isolate. */
async function runHere(
  bytes: Uint8Array,
  file: string,
  glue: string,
  data: RunData,
  out: (stream: "stdout" | "stderr", text: string) => void,
  imports?: WebAssembly.Imports,
): Promise<RunResult> {
  const { run } = await import("./harness.js");
  const compiled = await compile(bytes, file);
  const { JsBindgen } = await import(moduleUrl(glue));
  if (typeof JsBindgen !== "function") {
    throw new UsageError(`Cannot run "${file}": its glue exports no JsBindgen class`);
  }
  return await run(
    compiled,
    JsBindgen,
    data,
    out,
    imports as Record<string, Record<string, unknown>> | undefined,
  );
}

/** Node, another Deno, or Chromium. */
async function runElsewhere(
  engine: EngineChoice,
  job: { wasm: Uint8Array; glue: string; data: RunData },
  out: (stream: "stdout" | "stderr", text: string) => void,
): Promise<RunResult> {
  if (engine.name === "chromium") {
    const { runInChromium } = await import("./chromium.ts");
    const seconds = Number(readEnv("LINKPASS_RUN_TIMEOUT") ?? "");
    return await runInChromium(engine, job, out, seconds > 0 ? seconds * 1000 : undefined);
  }
  return await runInProcess(engine, job, out);
}
