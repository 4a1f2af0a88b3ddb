// deno-lint-ignore-file no-import-prefix -- deps/ is where full specifiers belong: remote runs have no import map
/**
 * binaryen.js, the IR passes' engine (about 100 MB). Only {@linkcode importBinaryen} loads it:
 * its `import()` takes a variable, which Deno's module graph does not follow, so `--help`,
 * `inspect` or a strip never download it (a literal `import("npm:...")` would be prefetched with
 * the graph on the first run).
 * @module
 */
import type binaryen from "npm:binaryen@132.0.0";

/** The binaryen.js namespace, loaded only when an IR pass runs. */
export interface Binaryen extends BinaryenNamespace {}
/**
 * binaryen.js's own namespace type (binaryen@132), documented upstream.
 * @internal
 */
type BinaryenNamespace = typeof binaryen;
/** A binaryen.js module: the IR that `level: "ir"` passes receive. */
export interface BinaryenModule extends BinaryenModuleClass {}
/**
 * binaryen.js's `Module` class (binaryen@132), documented upstream.
 * @internal
 */
type BinaryenModuleClass = binaryen.Module;

/** Loads binaryen.js (downloading it into Deno's cache on first use). */
export async function importBinaryen(): Promise<Binaryen> {
  const specifier = "npm:binaryen@132.0.0";
  return (await import(specifier)).default as Binaryen;
}
