/**
 * The pass runner: runs sections-level passes on the zero-copy model and IR passes on one shared
 * binaryen parse, times each pass, labels its errors, and validates the result.
 * @module
 */
import { joinInto, type Section, sectionByteLength, SectionId, WasmModule } from "./wasm/module.ts";
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
import { stripObject } from "./passes/strip_custom_sections.ts";
import { BinaryenError, FeatureError, PassError, ValidationError } from "./errors.ts";
import { type Feature, moduleFeatures } from "./wasm/features.ts";
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
  /**
   * The caller owns the input's buffer and is done with it: the output may be joined into it
   * (see `joinInto`), which saves allocating the output. The input module, and the result's
   * `module` when the output was validated, then view overwritten bytes: use the result's `bytes`.
   */
  consumeInput?: boolean;
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

/** binaryen.js's flag name for each feature. */
const BINARYEN_FEATURE: Record<Feature, string> = {
  "atomics": "Atomics",
  "bulk-memory": "BulkMemory",
  "bulk-memory-opt": "BulkMemoryOpt",
  "call-indirect-overlong": "CallIndirectOverlong",
  "custom-page-sizes": "CustomPageSizes",
  "exception-handling": "ExceptionHandling",
  "extended-const": "ExtendedConst",
  "fp16": "FP16",
  "gc": "GC",
  "memory64": "Memory64",
  "multimemory": "MultiMemory",
  "multivalue": "Multivalue",
  "mutable-globals": "MutableGlobals",
  "nontrapping-fptoint": "NontrappingFPToInt",
  "reference-types": "ReferenceTypes",
  "relaxed-simd": "RelaxedSIMD",
  "sign-ext": "SignExt",
  "simd128": "SIMD128",
  "tail-call": "TailCall",
  "wide-arithmetic": "WideArithmetic",
};

/** binaryen's feature bit set for a set of features. */
export function binaryenFeatures(binaryen: Binaryen, features: Iterable<Feature>): number {
  const flags = binaryen.Features as unknown as Record<string, number>;
  let out = 0;
  for (const f of features) out |= flags[BINARYEN_FEATURE[f]] ?? 0;
  return out;
}

/** The first non-empty line binaryen printed or threw. */
function binaryenMessage(error: unknown, output: string[]): string {
  const thrown = error && typeof error === "object" && "message" in error
    ? String((error as { message: unknown }).message)
    : error === undefined
    ? undefined
    : String(error);
  return firstLine([...output, thrown ?? ""], "unknown binaryen failure");
}

/**
 * Reads binaryen IR from bytes with names kept and exactly the features the module uses (from
 * its `target_features` section and from its contents, see `moduleFeatures`), so that what
 * binaryen writes back needs no feature the input did not use. Input the engine rejects, and any
 * binaryen failure, become a {@linkcode BinaryenError} (nothing leaks: binaryen is only called
 * on valid modules, and a module it read is freed by the caller).
 */
export function readIr(
  binaryen: Binaryen,
  bytes: Uint8Array,
  features?: Iterable<Feature>,
): BinaryenModule {
  return readIrWithNotes(binaryen, bytes, features).ir;
}

/** {@linkcode readIr}, also returning what binaryen printed while reading. */
function readIrWithNotes(
  binaryen: Binaryen,
  bytes: Uint8Array,
  features?: Iterable<Feature>,
): { ir: BinaryenModule; notes: string[] } {
  const invalid = validationError(bytes);
  if (invalid) throw new BinaryenError("read", `the module is invalid: ${invalid}`);
  const allowed = features ?? moduleFeatures(WasmModule.parse(bytes)).allowed;
  binaryen.setDebugInfo(true);
  const { value, error, output } = quiet(() => binaryen.readBinary(bytes));
  if (!value) throw new BinaryenError("read", binaryenMessage(error, output), error);
  value.setFeatures(binaryenFeatures(binaryen, allowed));
  return { ir: value, notes: output };
}

/**
 * Throws a {@linkcode FeatureError} when `output` needs a feature `allowed` lacks; `by` names
 * the pass(es) that produced it.
 */
export function checkFeatures(output: WasmModule, allowed: Set<Feature>, by?: string): void {
  const { detected, why } = moduleFeatures(output);
  const extra = [...detected].filter((f) => !allowed.has(f));
  if (extra.length) throw new FeatureError(extra, extra.map((f) => why.get(f)!), by);
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
  /** True when the current module's features were checked against the input's. */
  featuresChecked = true;
  #allowed: Set<Feature> | undefined;

  /** The features the input uses: what the output may use. */
  get allowedFeatures(): Set<Feature> {
    // Section passes edit the module in place: the input's features come from its bytes, with
    // its target_features section (loaded into those bytes first when it is read lazily).
    return this.#allowed ??= this.phase("features", () => {
      void this.#targetFeatures?.payload;
      return moduleFeatures(WasmModule.parse(this.original.source)).allowed;
    });
  }
  /** The input's `target_features` section, kept even if a pass drops it from the module. */
  readonly #targetFeatures: Section | undefined;
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
    this.#targetFeatures = this.original.section("target_features");
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
    if (e && typeof e === "object" && !(e instanceof Error) && "message" in e) {
      // binaryen.js throws its C++ exceptions as plain objects with a message
      e = new BinaryenError("transform", binaryenMessage(e, []), e);
    }
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
    const before = standardSections(this.module);
    try {
      const report = await pass.run(this.module, this.context(warnings, () => run!));
      run = this.record(pass, performance.now() - started, warnings, report);
    } catch (e) {
      this.label(pass, e);
    }
    this.settle();
    if (!pass.preservesFeatures && !sameSections(before, standardSections(this.module))) {
      this.featuresChecked = false;
    }
    if (this.options.validateEach) {
      this.phase("validate", () => check(this.module.toBytes(), pass.name));
      if (!this.featuresChecked) {
        const allowed = this.allowedFeatures;
        this.phase("features", () => checkFeatures(this.module, allowed, `pass "${pass.name}"`));
        this.featuresChecked = true;
      }
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
    const allowed = this.allowedFeatures;
    const read = this.phase(
      "ir parse",
      () => readIrWithNotes(binaryen, this.module.toBytes(), allowed),
    );
    const ir = read.ir;
    let parseNotes = read.notes.map((l) => `binaryen: ${l.trim()}`).filter((l) =>
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
      const ran = group.filter((_, k) => reasons[k] === undefined).map((p) => `"${p.name}"`);
      this.phase("features", () => checkFeatures(this.module, allowed, `pass ${ran.join(", ")}`));
      this.featuresChecked = true;
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
    if (this.module.isRelocatable) {
      // An object keeps its relocations right: the `reloc.*` of the dropped sections go too,
      // the other targets and section symbols are renumbered.
      stripObject(this.module, new Set(debug));
      const left = debug.filter((s) => this.module.sections.includes(s));
      const gone = debug.filter((s) => !left.includes(s));
      if (left.length) {
        this.warnings.push(
          `the code changed, but relocations still point into ${
            left.map((s) => s.name).join(", ")
          }, which stay (stale)`,
        );
      }
      return {
        sections: gone.map((s) => s.name),
        bytes: gone.reduce((n, s) => n + sectionByteLength(s), 0),
        action: "dropped",
      };
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
    if (!this.featuresChecked) {
      const allowed = this.allowedFeatures;
      this.phase("features", () => checkFeatures(this.module, allowed));
    }
    if (validate === true || (validate === "auto" && changedStandard)) {
      bytes = this.phase("validate", () => {
        const out = (this.options.consumeInput && !this.module.unchanged &&
          joinInto(this.module.chunks(), this.original.source)) || this.module.toBytes();
        check(out);
        return out;
      });
      validated = true;
    }
    const output = this.module;
    const report: PipelineReport = {
      inputBytes: this.original.source.length,
      outputBytes: bytes?.length ?? output.byteLength,
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
