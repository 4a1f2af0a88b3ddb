/**
 * The pipeline `deno task demo` runs on the bundled example module (a copy of
 * tests/fixtures/rust_cdylib/app.wasm, built by its build.sh).
 * @module
 */
import { type Pass, stripCustomSections } from "../../mod.ts";

/** The demo's passes: drop DWARF and producers, keep the name section. */
export function demoPipeline(): Pass[] {
  return [stripCustomSections({ remove: ["debug", "producers"], keep: ["name"] })];
}
