/**
 * linkpass: composable WebAssembly link passes.
 *
 * Read a module as a list of zero-copy sections, run passes over it, write it back; untouched
 * sections are copied byte for byte.
 *
 * @example Strip every custom section but `name`
 * ```ts
 * import { runPipeline, stripCustomSections } from "./mod.ts";
 * const input = await Deno.readFile(new URL("./examples/demo/app.wasm", import.meta.url));
 * const { bytes, report } = await runPipeline(input, [stripCustomSections({ keep: ["name"] })]);
 * console.assert(bytes.length < input.length && report.passes.length === 1);
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./wasm/leb128.ts";
export { ByteReader, ByteWriter } from "./wasm/bytes.ts";
export {
  type LazyLoader,
  type ReadOptions,
  type Section,
  sectionByteLength,
  SectionId,
  sectionName,
  WasmModule,
} from "./wasm/module.ts";
export * from "./wasm/types.ts";
export * from "./wasm/custom.ts";
export * from "./wasm/linking.ts";
export { describeForeignFile } from "./wasm/identify.ts";
export { readModuleFile } from "./wasm/file.ts";
export * from "./passes/types.ts";
export {
  CATEGORIES,
  compileSelector,
  type Matcher,
  stripCustomSections,
  type StripOptions,
} from "./passes/strip_custom_sections.ts";
export { panic, type PanicOptions, type PanicRoot } from "./passes/panic.ts";
export { externrefBatch, type ExternrefBatchOptions } from "./passes/externref_batch.ts";
export { binaryenPasses, type BinaryenPassesOptions } from "./passes/binaryen.ts";
export { type ArchiveResult, type MemberRun, runArchivePipeline } from "./archive_pipeline.ts";
export { type ObjectPanicReport, panicObject } from "./passes/_panic_object.ts";
export {
  decodeInstructions,
  Imm,
  IMMEDIATE_KINDS,
  type ImmediateHandler,
  type ImmediateKind,
  type InstructionHandler,
  type InstructionVisitor,
  type TypeByteHandler,
} from "./wasm/instructions.ts";
export { dce, type DceOptions, type DceReport, eliminateDeadCode } from "./passes/dce.ts";
export type { DceCounts } from "./passes/_dce_rewrite.ts";
export {
  type BodyRefs,
  reach,
  type Reachability,
  type ReachOptions,
  type ReachRoots,
} from "./wasm/reach.ts";
export { type Feature, FEATURES, type ModuleFeatures, moduleFeatures } from "./wasm/features.ts";
export {
  builtinPasses,
  findPass,
  isBuiltinPass,
  orderPasses,
  passesFromConfig,
} from "./passes/mod.ts";
export {
  custom,
  definePass,
  flag,
  flagsOf,
  type FlagSpec,
  type ImportName,
  importName,
  integer,
  type IrPassBody,
  type IrPassDefinition,
  list,
  type OptionKind as PassOptionKind,
  type OptionSchema,
  type OptionSpec as PassOptionSpec,
  type PassDefinition,
  type PassFactory,
  passFromConfig,
  type PassInput,
  type Placement,
  type ResolvedOptions,
  resolveOptions,
  type SectionPassBody,
  type SectionPassDefinition,
  string,
} from "./passes/define.ts";
export * from "./pipeline.ts";
export { formatInspect, inspectModule, type InspectReport, type SectionRow } from "./inspect.ts";
export { type LoadedPass, loadUserPass, parsePassOptions } from "./user_pass.ts";
export { sameFile, writeFileAtomic } from "./fs.ts";
export {
  assembleFragment,
  assembleModule,
  type AssembleOptions,
  ASSEMBLER_VERSION,
  checkWatFragments,
  type WatFragment,
} from "./asm/mod.ts";
export {
  type Archive,
  type ArchiveMember,
  type ArchiveSymbol,
  isArchive,
  type NewMember,
  readArchive,
  writeArchive,
} from "./wasm/archive.ts";
export { link, type LinkOptions, type LinkResult } from "./linker/link.ts";
export { type LinkConfig, loadConfig } from "./linker/config.ts";
export { checkInputs, type CheckProblem, type CheckReport } from "./linker/check.ts";
export { glueStem, jsGlue, type JsGlueOptions } from "./passes/js_glue.ts";
export { generateGlue, type Glue, type GlueOptions, type GlueReport } from "./glue/generate.ts";
export {
  EMBED_SECTION,
  encodeJsRecord,
  IMPORT_SECTION,
  type JsName,
  type JsRecord,
  readJsRecords,
} from "./glue/records.ts";
export { PANIC_EXIT_CODE, runModule, type RunOptions } from "./runner/run.ts";
export {
  parseTestArgs,
  readTests,
  TEST_SECTION,
  type TestArgs,
  type TestFlag,
  type TestRecord,
} from "./runner/libtest.ts";
export {
  type LinkArgs,
  optionValues,
  type ParsedArg,
  parseLinkArgs,
  type ReadText,
} from "./linker/args.ts";
export { type OptionKind, type OptionSpec, WASM_LD_OPTIONS } from "./linker/options_table.ts";
export {
  decodeFormatRecord,
  encodeFormatRecord,
  FORMAT_SECTION,
  type FormatRecord,
  MARKER_LIBRARIES,
  SUPPORTED_FORMAT_VERSIONS,
} from "./linker/guards.ts";

import { type ReadOptions, WasmModule } from "./wasm/module.ts";

/**
 * Reads a module or relocatable object: the header and section table now, contents on demand.
 *
 * @example Read a module
 * ```ts
 * import { readModule } from "./mod.ts";
 * const m = readModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
 * console.assert(m.sections.length === 0);
 * ```
 */
export function readModule(bytes: Uint8Array, options?: ReadOptions): WasmModule {
  return WasmModule.parse(bytes, options);
}
