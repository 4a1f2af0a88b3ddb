/**
 * The Firefox profiler's build of rustc-demangle (the panic pass's demangler), loaded only by
 * {@linkcode importDemangler} (a variable specifier: the module graph leaves it out).
 * @module
 */

/** Demangles any Rust symbol name (legacy or v0); other names come back unchanged. */
export type DemangleAny = (name: string) => string;

/** Loads the demangler's `demangle_any` (downloading the package on first use). */
export async function importDemangler(): Promise<DemangleAny> {
  const specifier = "npm:gecko-profiler-demangle@0.4.0";
  return ((await import(specifier)) as { demangle_any: DemangleAny }).demangle_any;
}
