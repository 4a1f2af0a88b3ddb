/**
 * The pass contract shared by built-in and user passes.
 * @module
 */
import type { WasmModule } from "../wasm/module.ts";
export type { Binaryen, BinaryenModule } from "../deps/binaryen.ts";
import type { Binaryen, BinaryenModule } from "../deps/binaryen.ts";

/** What a pass returns: a JSON-serializable summary for the report. */
export type PassReport = Record<string, unknown>;

/** Context handed to every pass. */
export interface PassContext {
  /** Name of the input file, when known (for messages). */
  file?: string;
  /** Name of the output file, when known (passes that emit files name them after it). */
  output?: string;
  /** Records a warning; it ends up in the pass's report under `warnings`. */
  warn(message: string): void;
  /** Extra files a pass produced (e.g. JS glue), keyed by output-relative name ("app.js"). */
  emit(name: string, contents: Uint8Array | string): void;
  /**
   * Registers a look at the module this pass produced once it is written (for an IR pass: after
   * its group of IR passes is emitted); the fields returned are merged into the pass's report.
   * Lets a pass report output sizes without encoding the module itself.
   */
  onOutput(fn: (output: WasmModule) => PassReport | void): void;
}

/** Context of an IR pass: also gives the loaded binaryen.js namespace. */
export interface IrPassContext extends PassContext {
  /** The loaded binaryen.js namespace (constructors, features, pass names). */
  binaryen: Binaryen;
  /** The module bytes the IR was read from (read-only; for passes that also need sections). */
  input: WasmModule;
}

/** A pass working on the section model. */
export interface SectionPass {
  /** The pass name, kebab-case (`strip-custom-sections`). */
  name: string;
  /** One line saying what the pass does (shown by `passes`). */
  description: string;
  /** Works on the zero-copy section model. */
  level: "sections";
  /** The options the pass was made with, defaults filled in (set by `definePass` factories). */
  options?: Readonly<Record<string, unknown>>;
  /**
   * True when the pass can never make the module need a feature its input did not use: it only
   * removes code, or emits instructions of features the module already uses. The pipeline then
   * skips re-detecting the output's features after it (a full decode of the code). Built-in
   * byte passes set it (tests/runtimes_test.ts checks their outputs opcode by opcode); leave it
   * unset in a pass that writes code of its own choosing.
   */
  preservesFeatures?: boolean;
  /** Edits `module` in place; returns the pass's report. */
  run(module: WasmModule, ctx: PassContext): PassReport | void | Promise<PassReport | void>;
}

/** A pass working on binaryen IR; consecutive IR passes share one parse and one emit. */
export interface IrPass {
  /** The pass name, kebab-case. */
  name: string;
  /** One line saying what the pass does (shown by `passes`). */
  description: string;
  /** Works on binaryen IR. */
  level: "ir";
  /** The options the pass was made with, defaults filled in (set by `definePass` factories). */
  options?: Readonly<Record<string, unknown>>;
  /**
   * Checked on the section model before binaryen parses anything: a returned reason skips the
   * pass (reported as `skipped`). When every pass of a group of IR passes skips, the module is
   * not parsed or re-encoded at all, so it comes out byte for byte.
   */
  skip?(module: WasmModule): string | undefined;
  /** Edits the binaryen module in place; returns the pass's report. */
  run(module: BinaryenModule, ctx: IrPassContext): PassReport | void | Promise<PassReport | void>;
}

/**
 * A pass: a plain object made by a factory that validated its options.
 *
 * @example A pass that counts sections
 * ```ts
 * import type { Pass } from "./types.ts";
 * const countSections: Pass = {
 *   name: "count-sections",
 *   description: "count the sections",
 *   level: "sections",
 *   run: (module) => ({ sections: module.sections.length }),
 * };
 * ```
 */
export type Pass = SectionPass | IrPass;
