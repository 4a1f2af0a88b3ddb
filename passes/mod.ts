/**
 * The pass registry: every built-in pass, in the order `opt` and `link` run them. Each entry is
 * the factory {@linkcode definePass} made, so names, descriptions, options, CLI flags and
 * configuration keys all come from each pass's one definition.
 *
 * @example Make passes from a configuration, as `link` does with the `linkpass` key
 * ```ts
 * import assert from "node:assert";
 * import { passesFromConfig } from "./mod.ts";
 * const passes = passesFromConfig({ "panic": true, "strip-custom-sections": "debug" });
 * assert.deepStrictEqual(passes.map((p) => p.name), ["panic", "strip-custom-sections"]);
 * assert.throws(() => passesFromConfig({ pnic: true }), /Unknown pass "pnic"/);
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import { type PassFactory, passFromConfig, type Placement } from "./define.ts";
import { binaryenPasses } from "./binaryen.ts";
import { dce } from "./dce.ts";
import { externrefBatch } from "./externref_batch.ts";
import { jsGlue } from "./js_glue.ts";
import { panic } from "./panic.ts";
import { stripCustomSections } from "./strip_custom_sections.ts";
import type { Pass } from "./types.ts";

/**
 * Every built-in pass, in the order they run: passes that need names (panic) first, js-glue
 * before the strip of the records it consumed, strip-custom-sections last.
 */
export const builtinPasses: readonly PassFactory[] = Object.freeze([
  panic,
  externrefBatch,
  dce,
  binaryenPasses,
  jsGlue,
  stripCustomSections,
] as PassFactory[]);

/** Looks a built-in pass up by name. */
export function findPass(name: string): PassFactory | undefined {
  return builtinPasses.find((p) => p.definition.name === name);
}

/** True when `pass` was made by a built-in factory (its errors without a type are our bugs). */
export function isBuiltinPass(pass: Pass): boolean {
  return builtinPasses.some((p) => p.definition.name === pass.name);
}

/**
 * Makes the passes a configuration's `passes` object asks for, in registry order: `true` means
 * the defaults, a plain value sets the pass's main option, an object sets options by key.
 */
export function passesFromConfig(
  config: Record<string, unknown>,
  source = "the linkpass configuration",
): Pass[] {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new UsageError(`Invalid "passes" in ${source}: give an object keyed by pass name`);
  }
  for (const name of Object.keys(config)) {
    if (!findPass(name)) {
      throw new UsageError(
        `Unknown pass "${name}" in ${source}: known passes are ${
          builtinPasses.map((p) => p.definition.name).join(", ")
        }`,
      );
    }
  }
  const passes: Pass[] = [];
  for (const factory of builtinPasses) {
    const value = config[factory.definition.name];
    try {
      const pass = passFromConfig(factory, value);
      if (pass) passes.push(pass);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) {
        throw new UsageError(`${e.message} (in ${source})`);
      }
      throw e;
    }
  }
  return passes;
}

/**
 * Orders built-in passes (registry order) and user passes (by their placement: just before or
 * after a named built-in, else after all of them, in the order given).
 */
export function orderPasses(
  builtins: Pass[],
  user: { pass: Pass; placement?: Placement }[],
): Pass[] {
  const rank = (name: string, where: string, pass: string) => {
    const i = builtinPasses.findIndex((p) => p.definition.name === name);
    if (i < 0) {
      throw new UsageError(
        `Pass "${pass}" asks to run ${where} "${name}", which is not a built-in pass: use one of ${
          builtinPasses.map((p) => p.definition.name).join(", ")
        }`,
        2,
      );
    }
    return i;
  };
  const keyed: { pass: Pass; key: number; seq: number }[] = builtins.map((pass, seq) => ({
    pass,
    key: builtinPasses.findIndex((p) => p.definition.name === pass.name),
    seq,
  }));
  user.forEach(({ pass, placement }, i) => {
    const key = placement?.before !== undefined
      ? rank(placement.before, "before", pass.name) - 0.5
      : placement?.after !== undefined
      ? rank(placement.after, "after", pass.name) + 0.5
      : builtinPasses.length;
    keyed.push({ pass, key, seq: builtins.length + i });
  });
  return keyed.sort((a, b) => a.key - b.key || a.seq - b.seq).map((k) => k.pass);
}
