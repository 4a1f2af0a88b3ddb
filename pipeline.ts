/**
 * The pass runner: runs sections-level passes on the zero-copy model and IR passes on one shared
 * binaryen parse, times each pass, labels its errors, and validates the result.
 * @module
 */
import { sectionByteLength, SectionId, WasmModule } from "./wasm/module.ts";
import { WasmParseError } from "./wasm/errors.ts";
import type {
  Binaryen,
  BinaryenModule,
  IrPass,
  Pass,
  PassContext,
  PassReport,
  SectionPass,
} from "./passes/types.ts";
import { isBuiltinPass } from "./passes/mod.ts";
import { PassError, ValidationError } from "./errors.ts";
import { importBinaryen } from "./deps/binaryen.ts";

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
  /** Output file name, when known: passes that emit files (js-glue) name them after it. */
  output?: string;
  /**
   * Keep `.debug_*` sections after a pass changed the code (their offsets are then stale, and
   * the report warns). Default: such sections are dropped.
   */
  keepStaleDebug?: boolean;
  /** Called as each phase starts (`parse`, `load binaryen`, `pass:<name>`, `validate`, ...). */
  onProgress?: (phase: string) => void;
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
  /**
   * Milliseconds by phase: `parse`, `load binaryen`, `ir parse`, `pass:<name>`, `ir emit`,
   * `validate`; the rest of `totalMs` is bookkeeping.
   */
  phases: Record<string, number>;
  /** DWARF sections that a code change made stale, and what became of them. */
  staleDebug?: { sections: string[]; bytes: number; action: "dropped" | "kept" };
  /** Warnings of the run itself (not of one pass). */
  warnings?: string[];
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
      return await importBinaryen();
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

/** True for DWARF sections, whose code offsets go stale when a pass changes the code. */
const isDebugSection = (name: string) => name.startsWith(".debug_");

/** A step of the pipeline: one section pass, or a run of consecutive IR passes. */
type Step = { level: "sections"; pass: SectionPass } | { level: "ir"; passes: IrPass[] };

/** Splits passes into steps: consecutive IR passes share one parse and one emit. */
function steps(passes: Pass[]): Step[] {
  const out: Step[] = [];
  for (const pass of passes) {
    const last = out.at(-1);
    if (pass.level === "sections") out.push({ level: "sections", pass });
    else if (last?.level === "ir") last.passes.push(pass);
    else out.push({ level: "ir", passes: [pass] });
  }
  return out;
}

/** The state of one pipeline run: the current module, the report so far, emitted files. */
class PipelineRun {
  readonly started = performance.now();
  readonly original: WasmModule;
  module: WasmModule;
  readonly runs: PassRun[] = [];
  readonly files = new Map<string, Uint8Array | string>();
  readonly phases: Record<string, number> = {};
  readonly warnings: string[] = [];
  irRan = false;
  /** The raw bytes of the input's standard sections, taken before any pass edits the module. */
  readonly #inputStandard: (Uint8Array | undefined)[];
  /** The raw bytes of the input's code section. */
  readonly #inputCode: Uint8Array | undefined;
  /** Callbacks passes registered with `ctx.onOutput`, with the report entry they fill. */
  #pending: { run: PassRun; fn: (output: WasmModule) => PassReport | void }[] = [];

  constructor(input: Uint8Array | WasmModule, readonly options: PipelineOptions) {
    this.original = input instanceof WasmModule
      ? input
      : this.phase("parse", () => WasmModule.parse(input, { file: options.file }));
    this.module = this.original;
    this.#inputStandard = standardSections(this.original);
    this.#inputCode = this.original.section(SectionId.code)?.raw;
  }

  /** Times `fn` as `name` (added up when a phase repeats) and tells the progress callback. */
  phase<T>(name: string, fn: () => T): T {
    this.options.onProgress?.(name);
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.phases[name] = (this.phases[name] ?? 0) + performance.now() - t;
    }
  }

  /** The same for an async phase. */
  async phaseAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.options.onProgress?.(name);
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.phases[name] = (this.phases[name] ?? 0) + performance.now() - t;
    }
  }

  /** The context a pass gets; `entry` gives the pass's report entry once it exists. */
  context(warnings: string[], entry: () => PassRun): PassContext {
    return {
      file: this.options.file,
      output: this.options.output,
      warn: (m) => warnings.push(m),
      emit: (name, contents) => this.files.set(name, contents),
      onOutput: (fn) =>
        void this.#pending.push({
          get run() {
            return entry();
          },
          fn,
        }),
    };
  }

  /** Adds a pass's entry to the report. */
  record(pass: Pass, ms: number, warnings: string[], report: PassReport | void): PassRun {
    const full: PassReport = { ...(report ?? {}) };
    if (warnings.length) full.warnings = warnings;
    const run: PassRun = { name: pass.name, level: pass.level, ms, report: full };
    this.runs.push(run);
    this.phases[`pass:${pass.name}`] = (this.phases[`pass:${pass.name}`] ?? 0) + ms;
    return run;
  }

  /** Rethrows a pass's error labelled with its name (a user pass's error is its own message). */
  label(pass: Pass, e: unknown): never {
    if (e instanceof PassError || e instanceof ValidationError) throw e;
    if (e instanceof WasmParseError) e.file ??= this.options.file;
    throw new PassError(pass.name, e, { userPass: !isBuiltinPass(pass) });
  }

  /** Hands the written module to the `onOutput` callbacks and merges what they report. */
  settle(): void {
    for (const { run, fn } of this.#pending) {
      try {
        Object.assign(run.report, fn(this.module) ?? {});
      } catch (e) {
        this.label({ name: run.name } as Pass, e);
      }
    }
    this.#pending = [];
  }

  /** Runs one section pass on the zero-copy model. */
  async sectionStep(pass: SectionPass): Promise<void> {
    this.options.onProgress?.(`pass:${pass.name}`);
    const started = performance.now();
    const warnings: string[] = [];
    let run: PassRun | undefined;
    try {
      const report = await pass.run(this.module, this.context(warnings, () => run!));
      run = this.record(pass, performance.now() - started, warnings, report);
    } catch (e) {
      this.label(pass, e);
    }
    this.settle();
    if (this.options.validateEach) {
      this.phase("validate", () => check(this.module.toBytes(), pass.name));
    }
  }

  /**
   * Runs consecutive IR passes on one binaryen parse and one emit. Passes whose `skip` gives a
   * reason do not run; when none runs there is no parse at all (the module stays byte for byte).
   */
  async irStep(group: IrPass[]): Promise<void> {
    const reasons: (string | undefined)[] = [];
    for (const pass of group) {
      try {
        reasons.push(pass.skip?.(this.module));
      } catch (e) {
        this.label(pass, e);
      }
    }
    if (reasons.every((r) => r !== undefined)) {
      group.forEach((pass, k) => this.record(pass, 0, [], { skipped: reasons[k] }));
      return;
    }
    const binaryen = await this.phaseAsync("load binaryen", loadBinaryen);
    const previousDebug = binaryen.getDebugInfo();
    // binaryen prints what it notices while reading (e.g. "linking section is present"): those
    // lines become warnings of the group's first pass that runs.
    const read = this.phase("ir parse", () => quiet(() => readIr(binaryen, this.module.toBytes())));
    if (!read.value) throw read.error;
    const ir = read.value;
    let parseNotes = read.output.map((l) => `binaryen: ${l.trim()}`).filter((l) =>
      l !== "binaryen:"
    );
    try {
      for (const [k, pass] of group.entries()) {
        if (reasons[k] !== undefined) {
          this.record(pass, 0, [], { skipped: reasons[k] });
          continue;
        }
        this.options.onProgress?.(`pass:${pass.name}`);
        const started = performance.now();
        const warnings: string[] = parseNotes;
        parseNotes = [];
        let run: PassRun | undefined;
        try {
          const ctx = { ...this.context(warnings, () => run!), binaryen, input: this.module };
          const report = await pass.run(ir, ctx);
          run = this.record(pass, performance.now() - started, warnings, report);
        } catch (e) {
          this.label(pass, e);
        }
        if (this.options.validateEach) this.phase("validate", () => checkIr(ir, pass.name));
      }
      const bytes = this.phase("ir emit", () => emit(ir, group));
      this.module = WasmModule.parse(bytes, { file: this.options.file });
      this.irRan = true;
    } finally {
      ir.dispose();
      binaryen.setDebugInfo(previousDebug);
    }
    this.settle();
  }

  /**
   * After a pass changed the code, DWARF's code offsets are wrong: the `.debug_*` sections are
   * dropped (or kept with a warning when `keepStaleDebug`), and the report says so.
   */
  staleDebug(): PipelineReport["staleDebug"] {
    const before = this.#inputCode;
    const after = this.module.section(SectionId.code)?.raw;
    if (!this.irRan && before !== undefined && before === after) return undefined;
    if (!this.irRan && before === undefined && after === undefined) return undefined;
    const debug = this.module.sections.filter((s) => s.id === 0 && isDebugSection(s.name));
    if (!debug.length) return undefined;
    const sections = debug.map((s) => s.name);
    const bytes = debug.reduce((n, s) => n + sectionByteLength(s), 0);
    if (this.options.keepStaleDebug) {
      this.warnings.push(
        `the code changed, so the kept DWARF sections (${sections.join(", ")}) are stale`,
      );
      return { sections, bytes, action: "kept" };
    }
    this.module.sections = this.module.sections.filter((s) => !debug.includes(s));
    return { sections, bytes, action: "dropped" };
  }

  /** Validates when asked (or when a standard section changed) and builds the result. */
  finish(): PipelineResult {
    const staleDebug = this.staleDebug();
    let bytes: Uint8Array | undefined;
    const validate = this.options.validate ?? "auto";
    const changedStandard = this.irRan ||
      !sameSections(this.#inputStandard, standardSections(this.module));
    let validated = false;
    if (validate === true || (validate === "auto" && changedStandard)) {
      bytes = this.phase("validate", () => {
        const out = this.module.toBytes();
        check(out);
        return out;
      });
      validated = true;
    }
    const output = this.module;
    const report: PipelineReport = {
      inputBytes: this.original.source.length,
      outputBytes: output.byteLength,
      passes: this.runs,
      validated,
      phases: this.phases,
      totalMs: performance.now() - this.started,
    };
    if (staleDebug) report.staleDebug = staleDebug;
    if (this.warnings.length) report.warnings = this.warnings;
    return {
      get bytes() {
        return bytes ??= output.toBytes();
      },
      module: output,
      files: this.files,
      report,
    };
  }
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
  const run = new PipelineRun(input, options);
  for (const step of steps(passes)) {
    if (step.level === "sections") await run.sectionStep(step.pass);
    else await run.irStep(step.passes);
  }
  return run.finish();
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
