/**
 * binaryen.js, the IR passes' engine (about 100 MB). Only {@linkcode importBinaryen} loads it:
 * its `import()` takes a variable, which Deno's module graph does not follow, so `--help`,
 * `inspect` or a strip never download it (a literal `import("npm:...")` would be prefetched with
 * the graph on the first run). Its types are imported as types only, which a run does not load.
 * @module
 */
/**
 * The binaryen.js namespace object, as {@linkcode importBinaryen} returns it (its members are
 * documented in binaryen.js's own `index.d.ts`, not here).
 * @ignore
 */
export type Binaryen = typeof import("npm:binaryen@132.0.0").default;
/**
 * A binaryen.js module: the IR that `level: "ir"` passes receive.
 * @ignore
 */
export type BinaryenModule = InstanceType<Binaryen["Module"]>;

/** Loads binaryen.js (downloading it into Deno's cache on first use). */
export async function importBinaryen(): Promise<Binaryen> {
  const specifier = "npm:binaryen@132.0.0";
  return (await import(specifier)).default as Binaryen;
}
