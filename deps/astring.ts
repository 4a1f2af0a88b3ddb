// deno-lint-ignore-file no-import-prefix -- deps/ is where full specifiers belong: remote runs have no import map
/**
 * astring (prints the generated glue from its ESTree). Its own `.d.ts` imports the `estree` and
 * `source-map` type packages, which it does not depend on; the one function linkpass calls is
 * typed here instead, so type checks and docs do not depend on them.
 * @module
 */
// @ts-types="./astring.d.ts"
import { generate as astringGenerate } from "npm:astring@1.9.0";

/** Prints an ESTree program as JavaScript text. */
export const generate: (node: unknown) => string = astringGenerate;
