/**
 * The binary layer on its own (`@linkpass/linkpass/wasm`): LEB128, the zero-copy section model,
 * readers for every standard section and the tool-conventions custom sections, the function-body
 * decoder, relocatable objects and `.a`/`.rlib` archives. It imports nothing else of linkpass.
 *
 * @example List a module's exports
 * ```ts
 * import assert from "node:assert";
 * import { readExports, readModule } from "./mod.ts";
 * const bytes = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * assert.ok(readExports(readModule(bytes)).some((e) => e.name === "checked_div"));
 * ```
 * @module
 */
export * from "./leb128.ts";
export { ByteReader, ByteWriter, decodeUtf8 } from "./bytes.ts";
export {
  type LazyLoader,
  readModule,
  type ReadOptions,
  type Section,
  sectionByteLength,
  SectionId,
  sectionName,
  WasmModule,
} from "./module.ts";
export {
  type DataSegment,
  type ElementSegment,
  type Export,
  EXTERNAL_KINDS,
  type ExternalKind,
  type FunctionBody,
  type Global,
  type GlobalType,
  type Import,
  type Limits,
  readCode,
  readData,
  readDataCount,
  readElements,
  readExports,
  readFunctions,
  readGlobals,
  readImports,
  readMemories,
  readStart,
  readTables,
  readTags,
  readTypes,
  type TableType,
  type TypeDef,
  type ValType,
} from "./types.ts";
export * from "./custom.ts";
export * from "./linking.ts";
export { type BodyScan, type IndexedInstruction, type IndexImmediate, scanBody } from "./code.ts";
export { NotWasmError, WasmParseError } from "./errors.ts";
export { describeForeignFile } from "./identify.ts";
export { readModuleFile } from "./file.ts";
export {
  type Archive,
  type ArchiveMember,
  type ArchiveSymbol,
  isArchive,
  type NewMember,
  readArchive,
  writeArchive,
} from "./archive.ts";
export {
  type BodyRefs,
  reach,
  type Reachability,
  type ReachOptions,
  type ReachRoots,
  type RewrittenBody,
} from "./reach.ts";
export { type Feature, FEATURES, type ModuleFeatures, moduleFeatures } from "./features.ts";
export {
  decodeInstructions,
  Imm,
  IMMEDIATE_KINDS,
  type ImmediateHandler,
  type ImmediateKind,
  type InstructionHandler,
  type InstructionVisitor,
  type TypeByteHandler,
} from "./instructions.ts";
