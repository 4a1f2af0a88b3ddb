/**
 * linkpass: composable WebAssembly link passes.
 *
 * Read a module as a list of zero-copy sections, run passes over it, write it back; untouched
 * sections are copied byte for byte. This module exports what pass writers and build scripts
 * need; the layers have their own entry points: `@linkpass/linkpass/wasm` (the binary layer),
 * `/asm` (the rwat assembler), `/glue`, `/linker`, `/runner`, and `/cli`.
 *
 * @example Strip every custom section but `name`
 * ```ts
 * import assert from "node:assert";
 * import { runPipeline, stripCustomSections } from "./mod.ts";
 * const input = await Deno.readFile(new URL("./examples/demo/app.wasm", import.meta.url));
 * const { bytes, report } = await runPipeline(input, [stripCustomSections({ keep: ["name"] })]);
 * assert.ok(bytes.length < input.length && report.passes.length === 1);
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./wasm/mod.ts";
export type {
  Binaryen,
  BinaryenModule,
  IrPass,
  IrPassContext,
  Pass,
  PassContext,
  PassReport,
  SectionPass,
} from "./passes/types.ts";
export {
  binaryenPasses,
  type BinaryenPassesOptions,
  type BinaryenPassesSchema,
} from "./passes/binaryen.ts";
export { type ArchiveResult, type MemberRun, runArchivePipeline } from "./archive_pipeline.ts";
export {
  dce,
  type DceOptions,
  type DceReport,
  type DceSchema,
  eliminateDeadCode,
} from "./passes/dce.ts";
export type { DceCounts } from "./passes/_dce_rewrite.ts";
export { type ObjectPanicReport, panicObject } from "./passes/_panic_object.ts";
export {
  type BuilderOptions,
  custom,
  definePass,
  type DefinitionBase,
  flag,
  flagsOf,
  type FlagSpec,
  type ImportName,
  importName,
  integer,
  type IrPassBody,
  type IrPassDefinition,
  list,
  type OptionKind,
  type OptionSchema,
  type OptionSpec,
  type PassDefinition,
  type PassFactory,
  passFromConfig,
  type PassInput,
  type Placement,
  type ResolvedOptions,
  resolveOptions,
  type SectionPassBody,
  type SectionPassDefinition,
  type Spec,
  string,
  type ValueOf,
  type WithDefault,
} from "./passes/define.ts";
export {
  builtinPasses,
  findPass,
  isBuiltinPass,
  orderPasses,
  passesFromConfig,
} from "./passes/mod.ts";
export {
  CATEGORIES,
  compileSelector,
  type Matcher,
  stripCustomSections,
  type StripOptions,
  type StripSchema,
} from "./passes/strip_custom_sections.ts";
export { panic, type PanicOptions, type PanicRoot, type PanicSchema } from "./passes/panic.ts";
export {
  externrefBatch,
  type ExternrefBatchOptions,
  type ExternrefBatchSchema,
} from "./passes/externref_batch.ts";
export { glueStem, jsGlue, type JsGlueOptions, type JsGlueSchema } from "./passes/js_glue.ts";
export {
  type PassRun,
  type PipelineOptions,
  type PipelineReport,
  type PipelineResult,
  runPipeline,
} from "./pipeline.ts";
export { formatInspect, inspectModule, type InspectReport, type SectionRow } from "./inspect.ts";
export * from "./size/mod.ts";
export { type LoadedPass, loadUserPass, parsePassOptions } from "./user_pass.ts";
export {
  type OutputFile,
  writeFileAtomic,
  writeOutputs,
  type WriteOutputsOptions,
  type WriteOutputsResult,
} from "./fs.ts";
export { type LinkConfig, loadConfig } from "./linker/config.ts";
export { type InputPassesResult, link, type LinkOptions, type LinkResult } from "./linker/link.ts";
export { PANIC_EXIT_CODE, runModule, type RunOptions } from "./runner/run.ts";
export type { EngineName } from "./runner/engines.ts";
export { generateGlue, type Glue, type GlueOptions, type GlueReport } from "./glue/generate.ts";
export type { JsName } from "./glue/records.ts";
