/**
 * Loading user passes from modules: the default export is a pass object or a factory.
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Pass } from "./passes/types.ts";
import { UsageError } from "./errors.ts";

function isPass(x: unknown): x is Pass {
  const p = x as Pass;
  return typeof p === "object" && p !== null && typeof p.name === "string" &&
    typeof p.run === "function" && (p.level === "sections" || p.level === "ir");
}

/**
 * Loads a pass from `spec` (a path relative to the working directory, or a URL). Its default
 * export is a pass, or a function (factory) that returns one when called without arguments.
 *
 * @example Load a pass module
 * ```ts ignore
 * import { loadUserPass } from "./user_pass.ts";
 * const pass = await loadUserPass("./my_pass.ts");
 * ```
 */
export async function loadUserPass(spec: string): Promise<Pass> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)
    ? spec
    : pathToFileURL(resolve(spec)).href;
  let mod: { default?: unknown };
  try {
    mod = await import(url);
  } catch (e) {
    throw new UsageError(`Cannot load pass "${spec}": ${(e as Error).message.split("\n")[0]}`, 2);
  }
  let value = mod.default;
  if (typeof value === "function") value = await value();
  if (!isPass(value)) {
    throw new UsageError(
      `Cannot load pass "${spec}": its default export is not a pass ({ name, description, level: "sections" | "ir", run }) or a factory returning one`,
      2,
    );
  }
  if (typeof value.description !== "string") value.description = "";
  return value;
}
