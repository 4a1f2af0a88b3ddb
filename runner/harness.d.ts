/**
 * Types of harness.js: the runner's harness, plain JS so that every engine (Deno, Node, a browser
 * page) runs the same code.
 * @module
 */

/** Exit code of a trap or a failed test run: Rust's panic exit code. */
export declare const PANIC_EXIT_CODE: 101;

/** A binary's run: its entry point, the parameter types it takes and argv. */
export interface BinaryRun {
  /** Discriminant. */
  kind: "binary";
  /** The module's path, for messages. */
  file: string;
  /** `main` or `_start`. */
  entry: string;
  /** The entry's parameter types (none, or argc and argv). */
  params: string[];
  /** The arguments, `argv[0]` included (empty for `js_bindgen.is_compat` modules). */
  argv: string[];
  /** The main memory import, for argv. */
  memory?: { module: string; name: string };
  /** The name section's module name (stripped from function names in stacks). */
  moduleName?: string;
}

/** One test the host selected. */
export interface TestEntry {
  /** The name shown (`path::name`). */
  name: string;
  /** The export to call. */
  export: string;
  /** `#[ignore]`, with its reason. */
  ignore: boolean | string;
  /** `#[should_panic]`, with its expected text. */
  shouldPanic: boolean | string;
  /** False for an ignored test that is reported but not run. */
  run: boolean;
}

/** A test harness's run. */
export interface TestRun {
  /** Discriminant. */
  kind: "test";
  /** The module's path, for messages. */
  file: string;
  /** The selected tests, sorted by name. */
  tests: TestEntry[];
  /** `--nocapture`: output goes through as it comes. */
  nocapture: boolean;
  /** How many tests the filters left out. */
  filtered: number;
  /** The name section's module name (stripped from function names in stacks). */
  moduleName?: string;
}

/** What to run. */
export type RunData = BinaryRun | TestRun;

/** How the harness prints. */
export type Report = (stream: "stdout" | "stderr", text: string) => void;

/** The exit status, or a one-line error when the module cannot be run at all. */
export interface RunResult {
  /** Process exit status. */
  status: number;
  /** Why the module could not be run (an import without JS, a missing test export). */
  error?: string;
}

/** Formats a console argument the same way in every engine. */
export declare function formatValue(value: unknown): string;
/** `RuntimeError: unreachable` for traps, `Name: message` for other errors. */
export declare function describeThrown(e: unknown): string;
/** The WebAssembly frames of a JS stack, as `  at name (wasm:0xOFFSET)`. */
export declare function wasmFrames(error: unknown, moduleName?: string): string[];
/** The payload of a panic message as std's hook formats it. */
export declare function panicPayload(message: string): string;
/** The imports a module needs that `imports` does not provide, as `"module"/"name"`. */
export declare function unprovidedImports(
  module: WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
): string[];
/** Writes C-style argv into fresh pages at the end of `memory`; returns `[argc, argv]`. */
export declare function writeArgv(
  memory: WebAssembly.Memory,
  argv: string[],
  is64: boolean,
): unknown[];
/** Runs a binary or the selected tests with the glue's class. */
export declare function run(
  module: WebAssembly.Module,
  // deno-lint-ignore no-explicit-any
  JsBindgen: any,
  data: RunData,
  report: Report,
  imports?: Record<string, Record<string, unknown>>,
): Promise<RunResult>;
