/**
 * The pipeline `deno task demo` runs on the bundled example module (a copy of
 * tests/fixtures/rust_cdylib/app.wasm, built by its build.sh).
 * @module
 */
import { panic, type Pass, stripCustomSections } from "../../mod.ts";

/**
 * The demo's passes: panics become traps (core::fmt and the rest of Rust's panic machinery go
 * away), then DWARF and producers are dropped; the name section stays.
 */
export function demoPipeline(): Pass[] {
  return [
    panic({ mode: "trap" }),
    stripCustomSections({ remove: ["debug", "producers"], keep: ["name"] }),
  ];
}
