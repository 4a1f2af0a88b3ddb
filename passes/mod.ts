/**
 * The pass registry: the single source of pass names, descriptions and CLI options. `cli.ts opt`
 * builds its flags and help from this array, and runs the requested passes in this order.
 * @module
 */
import type { PassDefinition } from "./types.ts";
import { definition as panicDefinition } from "./panic.ts";
import { definition as jsGlueDefinition } from "./js_glue.ts";
import { definition as externrefDefinition } from "./externref_batch.ts";
import { definition as stripDefinition } from "./strip_custom_sections.ts";

export type { PassDefinition, PassOption } from "./types.ts";

/**
 * Every built-in pass, in the order `opt` runs them. Each pass file exports its `definition`;
 * passes that need names (panic) run before strip-custom-sections, which runs last.
 */
export const registry: PassDefinition[] = [
  panicDefinition,
  externrefDefinition,
  jsGlueDefinition,
  stripDefinition,
];

/** Looks a pass up by name. */
export function findPass(name: string): PassDefinition | undefined {
  return registry.find((p) => p.name === name);
}
