// deno-lint-ignore-file no-import-prefix -- deps/ is where full specifiers belong: remote runs have no import map
/**
 * wabt.js, the assembler's WAT parser (about 5 MB), loaded only by {@linkcode importWabt} (a
 * variable specifier, so the module graph leaves it out until an `asm`/`link` needs it).
 * @module
 */
import type wabtInit from "npm:wabt@1.0.39";

/** wabt.js's initializer (its default export). */
export type WabtInit = typeof wabtInit;

/** Loads wabt.js's initializer (downloading it on first use). */
export async function importWabt(): Promise<WabtInit> {
  const specifier = "npm:wabt@1.0.39";
  return (await import(specifier)).default as WabtInit;
}
