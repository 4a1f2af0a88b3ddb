/**
 * The pass registry: the single source of pass names, descriptions and CLI options. `cli.ts opt`
 * builds its flags and help from this array, and runs the requested passes in this order.
 * @module
 */
import type { Pass } from "./types.ts";
import { CATEGORIES, stripCustomSections } from "./strip_custom_sections.ts";

/** One command-line option of a pass. */
export interface PassOption {
  /** Commander flag syntax, e.g. `--keep <selector>`. */
  flags: string;
  description: string;
  /** Repeatable: values are collected into an array. */
  repeatable?: boolean;
  /** Value used when a `[value]` flag is given without one. */
  preset?: string;
}

/** A registry entry. */
export interface PassDefinition {
  name: string;
  description: string;
  level: "sections" | "ir";
  options: PassOption[];
  /**
   * Builds the pass from parsed option values (camelCase keys as Commander gives them), or
   * returns undefined when the command line did not ask for it. Throws RangeError/TypeError on
   * bad values.
   */
  fromOptions(values: Record<string, unknown>): Pass | undefined;
}

const asList = (v: unknown): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)];

/** Every built-in pass, in the order `opt` runs them. */
export const registry: PassDefinition[] = [
  {
    name: "strip-custom-sections",
    description: "remove custom sections by name, prefix*, /regex/ or category",
    level: "sections",
    options: [
      {
        flags: "--strip-custom-sections [selector]",
        description: `custom sections to remove (repeatable): a category (${
          Object.keys(CATEGORIES).join(", ")
        }), an exact name, a prefix* glob or an anchored /regex/; no value means all`,
        repeatable: true,
        preset: "all",
      },
      {
        flags: "--keep <selector>",
        description: "custom sections to keep even when selected (repeatable; wins over a selection)",
        repeatable: true,
      },
    ],
    fromOptions(v) {
      const remove = asList(v.stripCustomSections);
      if (!remove) {
        if (v.keep !== undefined) throw new RangeError("--keep needs --strip-custom-sections");
        return undefined;
      }
      return stripCustomSections({ remove, keep: asList(v.keep) });
    },
  },
];

/** Looks a pass up by name. */
export function findPass(name: string): PassDefinition | undefined {
  return registry.find((p) => p.name === name);
}
