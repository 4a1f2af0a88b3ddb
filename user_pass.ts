/**
 * Loading user passes from modules. A module's default export is one of:
 * - a factory made with `definePass` (recommended): its options are checked against its schema,
 *   and its definition may say where it runs (`placement: { before: "strip-custom-sections" }`);
 * - a plain function (factory) called with the options object;
 * - a pass object (`{ name, description, level, run }`), which takes no options.
 *
 * Options come as `key=value` strings (from `--pass-option`); a value is parsed by the pass's
 * schema, or for a plain factory as JSON when it parses (`n=3`, `names=["a","b"]`), else kept as
 * a string.
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "./errors.ts";
import type { PassFactory, Placement } from "./passes/define.ts";
import type { Pass } from "./passes/types.ts";

/** A loaded user pass and where it asked to run. */
export interface LoadedPass {
  /** The pass. */
  pass: Pass;
  /** Where it runs among the built-ins (absent: after all of them). */
  placement?: Placement;
}

function isPass(x: unknown): x is Pass {
  const p = x as Pass;
  return typeof p === "object" && p !== null && typeof p.name === "string" &&
    typeof p.run === "function" && (p.level === "sections" || p.level === "ir");
}

function isFactory(x: unknown): x is PassFactory {
  return typeof x === "function" && typeof (x as PassFactory).definition === "object" &&
    (x as PassFactory).definition !== null;
}

/** Splits `key=value` pairs into an object; a key given twice makes a list. */
export function parsePassOptions(pairs: string[], spec: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(
        `Invalid --pass-option "${pair}" for "${spec}": write key=value, e.g. count=3`,
        2,
      );
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const had = out[key];
    out[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return out;
}

function jsonOrString(value: string | string[]): unknown {
  if (Array.isArray(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Loads a pass from `spec` (a path relative to the working directory, or a URL), with options
 * given as `key=value` strings.
 *
 * @example Load a pass module with an option
 * ```ts
 * import assert from "node:assert";
 * import { loadUserPass } from "./user_pass.ts";
 * const url = new URL("./examples/section_pass.ts", import.meta.url).href;
 * const { pass, placement } = await loadUserPass(url, ["section=producers"]);
 * assert.strictEqual(pass.name, "drop-section");
 * assert.deepStrictEqual(placement, { before: "strip-custom-sections" });
 * ```
 */
export async function loadUserPass(spec: string, options: string[] = []): Promise<LoadedPass> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)
    ? spec
    : pathToFileURL(resolve(spec)).href;
  let mod: { default?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    throw new UsageError(
      `Cannot load pass "${spec}": ${String((e as Error)?.message ?? e).split("\n")[0]}`,
      2,
    );
  }
  const value = mod.default;
  const raw = parsePassOptions(options, spec);
  const fail = (why: string): never => {
    throw new UsageError(`Cannot use pass "${spec}": ${why}`, 2);
  };
  if (isFactory(value)) {
    try {
      return { pass: value(raw), placement: value.definition.placement };
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) fail(e.message);
      throw e;
    }
  }
  let made: unknown = value;
  if (typeof value === "function") {
    const input = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, jsonOrString(v)]));
    try {
      made = await value(input);
    } catch (e) {
      fail(`its factory threw: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
    }
  } else if (options.length) {
    fail("its default export is a pass object, which takes no options; export a factory");
  }
  if (!isPass(made)) {
    fail(
      'its default export is not a pass ({ name, description, level: "sections" | "ir", run }), a factory returning one, or a definePass() factory',
    );
  }
  const pass = made as Pass;
  if (typeof pass.description !== "string") pass.description = "";
  const placement = (pass as { placement?: Placement }).placement;
  return { pass, placement };
}
