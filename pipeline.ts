/**
 * The pass runner: runs sections-level passes on the zero-copy model and IR passes on one shared
 * binaryen parse, times each pass, labels its errors, and validates the result.
 * @module
 */
import { WasmModule } from "./wasm/module.ts";
import { WasmParseError } from "./wasm/errors.ts";
import {
  type Binaryen,
  type BinaryenModule,
  type IrPass,
  type Pass,
  type PassContext,
  type PassReport,
} from "./passes/types.ts";
import { PassError, ValidationError } from "./errors.ts";

/** Options of {@linkcode runPipeline}. */
export interface PipelineOptions {
  /** Input file name for messages. */
  file?: string;
  /** Validate after every pass and name the pass that broke the module. */
  validateEach?: boolean;
  /**
   * Validate the final module: "auto" (default) validates unless no standard section changed
   * (custom sections cannot affect validity), true always, false never.
   */
  validate?: boolean | "auto";
}

/** One pass's entry in the report. */
export interface PassRun {
  /** The pass name. */
  name: string;
  /** The pass level. */
  level: "sections" | "ir";
  /** Time the pass took, in milliseconds. */
  ms: number;
  /** What the pass returned (plus `warnings` and `skipped`). */
  report: PassReport;
}

/** The result of a pipeline run. */
export interface PipelineReport {
  /** Size of the input in bytes. */
  inputBytes: number;
  /** Size of the output in bytes. */
  outputBytes: number;
  /** Every pass, in the order it ran. */
  passes: PassRun[];
  /** True when the output was validated (see `PipelineOptions.validate`). */
  validated: boolean;
  /** Time of the whole run, in milliseconds. */
  totalMs: number;
}

/** Output of {@linkcode runPipeline}. */
export interface PipelineResult {
  /** The output bytes (encoded on first access). */
  readonly bytes: Uint8Array;
  /** The output module; `module.chunks()` writes it without building one buffer. */
  module: WasmModule;
  /** Timings and pass reports. */
  report: PipelineReport;
  /** Extra files passes produced (name → contents). */
  files: Map<string, Uint8Array | string>;
}

let binaryenPromise: Promise<Binaryen> | undefined;
/** Where binaryen.js's console output goes while {@linkcode quiet} runs. */
let sink: ((line: string) => void) | undefined;

/**
 * Loads binaryen.js once, on first use (it takes most of a second). binaryen.js binds
 * `console.log`/`console.error` when it loads; it gets forwarding functions, so that its messages
 * can be captured instead of printed (library code never prints).
 */
export function loadBinaryen(): Promise<Binaryen> {
  binaryenPromise ??= (async () => {
    const saved = { log: console.log, error: console.error };
    const forward = (original: (...args: unknown[]) => void) => (...args: unknown[]) =>
      sink ? sink(args.join(" ")) : original.apply(console, args);
    console.log = forward(saved.log);
    console.error = forward(saved.error);
    try {
      return (await import("binaryen")).default as Binaryen;
    } finally {
      console.log = saved.log;
      console.error = saved.error;
    }
  })();
  return binaryenPromise;
}

/** Returns the engine's validation message for `bytes`, or undefined when they are valid. */
export function validationError(bytes: Uint8Array): string | undefined {
  if (WebAssembly.validate(bytes as BufferSource)) return undefined;
  try {
    new WebAssembly.Module(bytes as BufferSource);
  } catch (e) {
    return e instanceof Error ? e.message.replace(/^WebAssembly\.Module\(\): /, "") : String(e);
  }
  return "rejected by the engine";
}

/** Reads binaryen IR from bytes with every feature enabled and names kept. */
export function readIr(binaryen: Binaryen, bytes: Uint8Array): BinaryenModule {
  binaryen.setDebugInfo(true);
  const ir = binaryen.readBinary(bytes);
  // Every feature but compact imports: with it binaryen groups imports of one module into the
  // compact-imports encoding (import kind 0x7f), which engines reject without a flag.
  const compactImports = (binaryen.Features as unknown as Record<string, number>).CompactImports ??
    0;
  ir.setFeatures(binaryen.Features.All & ~compactImports);
  return ir;
}

/** The raw bytes of every standard (non-custom) section, in order. */
function standardSections(m: WasmModule): (Uint8Array | undefined)[] {
  return m.sections.filter((s) => s.id !== 0).map((s) => s.raw);
}

function sameSections(a: (Uint8Array | undefined)[], b: (Uint8Array | undefined)[]): boolean {
  return a.length === b.length && a.every((raw, i) => raw !== undefined && raw === b[i]);
}

/**
 * Runs `passes` over `input` and returns the new bytes with a report.
 *
 * @example An empty pipeline returns the input byte for byte
 * ```ts
 * import { runPipeline } from "./pipeline.ts";
 * import assert from "node:assert";
 * const input = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
 * const { bytes } = await runPipeline(input, []);
 * assert.deepStrictEqual(bytes, input);
 * ```
 */
export async function runPipeline(
  input: Uint8Array | WasmModule,
  passes: Pass[],
  options: PipelineOptions = {},
): Promise<PipelineResult> {
  const t0 = performance.now();
  const original = input instanceof WasmModule
    ? input
    : WasmModule.parse(input, { file: options.file });
  let module = original;
  const originalStandard = standardSections(original);
  const runs: PassRun[] = [];
  const files = new Map<string, Uint8Array | string>();
  let irRan = false;
  /** Callbacks passes registered with `ctx.onOutput`, by their entry in `runs`. */
  let pending: { run: PassRun; fn: (output: WasmModule) => PassReport | void }[] = [];
  const context = (warnings: string[], run: () => PassRun): PassContext => ({
    file: options.file,
    warn: (m) => warnings.push(m),
    emit: (name, contents) => files.set(name, contents),
    onOutput: (fn) =>
      void pending.push({
        get run() {
          return run();
        },
        fn,
      }),
  });
  const finish = (pass: Pass, started: number, warnings: string[], report: PassReport | void) => {
    const full: PassReport = { ...(report ?? {}) };
    if (warnings.length) full.warnings = warnings;
    const run: PassRun = {
      name: pass.name,
      level: pass.level,
      ms: performance.now() - started,
      report: full,
    };
    runs.push(run);
    return run;
  };
  const label = (pass: Pass, e: unknown): never => {
    if (e instanceof PassError || e instanceof ValidationError) throw e;
    if (e instanceof WasmParseError) e.file ??= options.file;
    throw new PassError(pass.name, e);
  };
  /** Hands the written module to the `onOutput` callbacks and merges what they report. */
  const settle = () => {
    for (const { run, fn } of pending) {
      try {
        Object.assign(run.report, fn(module) ?? {});
      } catch (e) {
        label({ name: run.name } as Pass, e);
      }
    }
    pending = [];
  };

  for (let i = 0; i < passes.length;) {
    const pass = passes[i];
    if (pass.level === "sections") {
      const started = performance.now();
      const warnings: string[] = [];
      let run: PassRun | undefined;
      try {
        run = finish(
          pass,
          started,
          warnings,
          await pass.run(module, context(warnings, () => run!)),
        );
      } catch (e) {
        label(pass, e);
      }
      settle();
      if (options.validateEach) check(module.toBytes(), pass.name);
      i++;
      continue;
    }
    // A run of consecutive IR passes: one parse, one emit; passes whose `skip` gives a reason do
    // not run, and when none runs there is no parse at all (the module stays byte for byte).
    const group: IrPass[] = [];
    while (i < passes.length && passes[i].level === "ir") group.push(passes[i++] as IrPass);
    const reasons: (string | undefined)[] = [];
    for (const pass of group) {
      try {
        reasons.push(pass.skip?.(module));
      } catch (e) {
        label(pass, e);
      }
    }
    if (reasons.every((r) => r !== undefined)) {
      group.forEach((pass, k) => finish(pass, performance.now(), [], { skipped: reasons[k] }));
      continue;
    }
    const binaryen = await loadBinaryen();
    const previousDebug = binaryen.getDebugInfo();
    // binaryen prints what it notices while reading (e.g. "linking section is present"): those
    // lines become warnings of the group's first pass that runs.
    const read = quiet(() => readIr(binaryen, module.toBytes()));
    if (!read.value) throw read.error;
    const ir = read.value;
    let parseNotes = read.output.map((l) => `binaryen: ${l.trim()}`).filter((l) =>
      l !== "binaryen:"
    );
    try {
      for (const [k, pass] of group.entries()) {
        const started = performance.now();
        if (reasons[k] !== undefined) {
          finish(pass, started, [], { skipped: reasons[k] });
          continue;
        }
        const warnings: string[] = parseNotes;
        parseNotes = [];
        let run: PassRun | undefined;
        try {
          const ctx = { ...context(warnings, () => run!), binaryen, input: module };
          run = finish(pass, started, warnings, await pass.run(ir, ctx));
        } catch (e) {
          label(pass, e);
        }
        if (options.validateEach) checkIr(ir, pass.name);
      }
      module = WasmModule.parse(emit(ir, group), { file: options.file });
      irRan = true;
    } finally {
      ir.dispose();
      binaryen.setDebugInfo(previousDebug);
    }
    settle();
  }
  let bytes: Uint8Array | undefined;
  const validate = options.validate ?? "auto";
  const changedStandard = irRan || !sameSections(originalStandard, standardSections(module));
  let validated = false;
  if (validate === true || (validate === "auto" && changedStandard)) {
    bytes = module.toBytes();
    check(bytes);
    validated = true;
  }
  const output = module;
  return {
    get bytes() {
      return bytes ??= output.toBytes();
    },
    module,
    files,
    report: {
      inputBytes: original.source.length,
      outputBytes: output.byteLength,
      passes: runs,
      validated,
      totalMs: performance.now() - t0,
    },
  };
}

/**
 * Runs `fn` with console output captured: binaryen.js prints its validation messages and aborts
 * through the console, and library code must not print.
 */
export function quiet<T>(fn: () => T): { value?: T; error?: unknown; output: string[] } {
  const output: string[] = [];
  const previous = sink;
  sink = (line) => void output.push(line);
  try {
    return { value: fn(), output };
  } catch (error) {
    return { error, output };
  } finally {
    sink = previous;
  }
}

function firstLine(output: string[], fallback: string): string {
  return output.join("\n").split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? fallback;
}

/** Validates IR with binaryen's validator (names the pass, and avoids aborts on emit). */
function checkIr(ir: BinaryenModule, pass: string): void {
  const { value, error, output } = quiet(() => ir.validate());
  if (error || !value) {
    throw new ValidationError(firstLine(output, String(error ?? "invalid IR")), pass);
  }
}

/** Emits IR; a module too broken to emit becomes a ValidationError naming the IR passes. */
function emit(ir: BinaryenModule, group: IrPass[]): Uint8Array {
  const { value, error, output } = quiet(() => ir.emitBinary());
  if (value) return value;
  const names = group.map((p) => `"${p.name}"`).join(", ");
  throw new ValidationError(
    `binaryen could not write the module after ${names}: ${firstLine(output, String(error))}`,
  );
}

function check(bytes: Uint8Array, pass?: string): void {
  const error = validationError(bytes);
  if (error) throw new ValidationError(error, pass);
}
