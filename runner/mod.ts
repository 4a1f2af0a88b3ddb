/**
 * Running linked modules (`@linkpass/linkpass/runner`): binaries (`main`/`_start`) and
 * libtest-style test modules, with their glue generated in memory.
 * @module
 */
export { PANIC_EXIT_CODE, runModule, type RunOptions } from "./run.ts";
export { chooseEngine, type EngineChoice, type EngineName, ENGINES } from "./engines.ts";
export {
  parseTestArgs,
  readTests,
  TEST_SECTION,
  type TestArgs,
  type TestFlag,
  type TestRecord,
} from "./libtest.ts";
