/**
 * Types of the runner's harness (harness.js), which stays plain JavaScript so that Node and a
 * browser page run the same file; TypeScript modules and `deno publish` read these declarations.
 * @module
 */

/** Exit code of a trap or a failed test run: Rust's panic exit code. */
export declare const PANIC_EXIT_CODE: 101;

/** Formats a console argument the same way in every engine. */
export declare function formatValue(value: unknown): string;

/** `RuntimeError: unreachable` for traps, `Name: message` for other errors. */
export declare function describeThrown(e: unknown): string;

/** The WebAssembly frames of a JS stack, as `  at name (wasm:0xOFFSET)`. */
export declare function wasmFrames(error: unknown, moduleName?: string): string[];

/** The payload of a panic message as std's hook formats it; other text comes back as it is. */
export declare function panicPayload(message: string): string;

/** The imports the glue (and the runner's own) do not provide, as `"module"/"name"`. */
export declare function unprovidedImports(
  module: WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
): string[];

/** Writes C-style `argv` into fresh pages at the end of `memory`; returns `[argc, argv]`. */
export declare function writeArgv(
  memory: WebAssembly.Memory,
  argv: string[],
  is64: boolean,
): [number, number | bigint];

/** A binary to run: its entry point and arguments. */
export interface BinaryRun {
  /** Always "binary". */
  kind: "binary";
  /** The module's file name, for messages. */
  file: string;
  /** The export to call (`main` or `_start`). */
  entry: string;
  /** The entry's parameter types. */
  params: string[];
  /** Program arguments, the program name first. */
  argv: string[];
  /** The main memory import, when the module imports one. */
  memory?: { module: string; name: string };
  /** The name section's module name. */
  moduleName?: string;
}

/** One test of a test harness. */
export interface TestEntry {
  /** The test's path. */
  name: string;
  /** The export that runs it. */
  export: string;
  /** `#[ignore]` (with its reason, when given). */
  ignore: boolean | string;
  /** `#[should_panic]` (with the expected text, when given). */
  shouldPanic: boolean | string;
  /** Whether the host selected it. */
  run: boolean;
}

/** The tests to run. */
export interface TestRun {
  /** Always "test". */
  kind: "test";
  /** The module's file name, for messages. */
  file: string;
  /** Every test, selected or not. */
  tests: TestEntry[];
  /** `--nocapture`. */
  nocapture: boolean;
  /** How many tests the filters left out. */
  filtered: number;
  /** The name section's module name. */
  moduleName?: string;
}

/** What to run. */
export type RunData = BinaryRun | TestRun;

/** How the harness prints. */
export type Report = (stream: "stdout" | "stderr", text: string) => void;

/** The exit status, or an error message when the module cannot be run at all. */
export interface RunResult {
  /** Exit status. */
  status: number;
  /** Why the module could not run. */
  error?: string;
}

/** Runs a binary or the selected tests with the glue's class. */
export declare function run(
  module: WebAssembly.Module,
  // deno-lint-ignore no-explicit-any
  JsBindgen: any,
  data: RunData,
  report: Report,
  imports?: Record<string, Record<string, unknown>>,
): Promise<RunResult>;
