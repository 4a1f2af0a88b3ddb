/**
 * The linker mode (`@linkpass/linkpass/linker`): `wasm-ld` argument parsing, the `linkpass`
 * configuration, input checks, the format guards, and `link` itself (assemble embedded WAT, call
 * the linker, run the post-link passes).
 * @module
 */
export { type InputPassesResult, link, type LinkOptions, type LinkResult } from "./link.ts";
export { type InputPasses, inputPasses } from "./input_passes.ts";
export { type LinkConfig, loadConfig } from "./config.ts";
export { checkInputs, type CheckProblem, type CheckReport } from "./check.ts";
export {
  type LinkArgs,
  optionValues,
  type ParsedArg,
  parseLinkArgs,
  type ReadText,
} from "./args.ts";
export { type OptionKind, type OptionSpec, WASM_LD_OPTIONS } from "./options_table.ts";
export {
  decodeFormatRecord,
  encodeFormatRecord,
  FORMAT_SECTION,
  type FormatRecord,
  MARKER_LIBRARIES,
  SUPPORTED_FORMAT_VERSIONS,
} from "./guards.ts";
