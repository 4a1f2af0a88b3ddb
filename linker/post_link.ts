/**
 * The post-link side of linker mode: which memory import to ask for, which passes run on the
 * linked module (registry order, js-glue and the strip of linkpass's own sections included), and
 * where cargo will copy the output.
 * @module
 */
import { basename, dirname } from "node:path";
import { type Pass } from "../passes/types.ts";
import { UsageError } from "../errors.ts";
import { registry } from "../passes/mod.ts";
import { stripCustomSections } from "../passes/strip_custom_sections.ts";
import { jsGlue } from "../passes/js_glue.ts";
import { lastValue, type LinkArgs } from "./args.ts";
import type { LinkConfig } from "./config.ts";

/** The main memory the glue sees, and whether linkpass asked for the import. */
export function memoryImport(
  parsed: LinkArgs,
  lldMajor: number | undefined,
): { module: string; name: string; add?: string; rename?: boolean } {
  const named = lastValue(parsed, "import-memory-with-name");
  if (named !== undefined) {
    const [module, name = "memory"] = named.split(",");
    return { module, name };
  }
  if (parsed.args.some((a) => a.type === "option" && a.id === "import-memory")) {
    return { module: "env", name: "memory" };
  }
  if (lldMajor !== undefined && lldMajor >= 16) {
    return { module: "js_bindgen", name: "memory", add: "--import-memory=js_bindgen,memory" };
  }
  // Older (or unknown) LLD: plain --import-memory, and the import is renamed after the link.
  return { module: "js_bindgen", name: "memory", add: "--import-memory", rename: true };
}

/**
 * Where cargo will copy ("uplift") the output, when the glue should be copied there too: a
 * cdylib linked into `deps/` under its crate name is copied to the directory above. Test
 * harnesses (which link libtest) and hashed binary names are left in `deps/`.
 */
export function cargoUpliftDir(
  output: string,
  parsed: LinkArgs,
  env: (name: string) => string | undefined,
): string | undefined {
  const crate = env("CARGO_CRATE_NAME");
  if (!crate || basename(dirname(output)) !== "deps") return undefined;
  if (basename(output).replace(/\.wasm$/, "") !== crate) return undefined;
  const inputs = parsed.args.flatMap((a) => (a.type === "input" ? [basename(a.path)] : []));
  if (inputs.some((name) => /^libtest-[0-9a-f]+\.rlib$/.test(name))) return undefined;
  return dirname(dirname(output));
}

/** Builds the post-link passes: registry order, with js-glue and the strip of our sections. */
export function postLinkPasses(
  config: LinkConfig,
  memory: { module: string; name: string },
  output: string,
) {
  const passes: Pass[] = [];
  const configured = config.passes ?? {};
  for (const name of Object.keys(configured)) {
    if (!registry.some((d) => d.name === name)) {
      throw new UsageError(
        `Unknown pass "${name}" in ${
          config.source ?? "the linkpass configuration"
        }: known passes are ${registry.map((d) => d.name).join(", ")}`,
      );
    }
  }
  for (const def of registry) {
    const wanted = configured[def.name];
    if (def.name === "js-glue") {
      passes.push(
        jsGlue({ name: basename(output), memory: { module: memory.module, name: memory.name } }),
      );
      continue;
    }
    if (def.name === "strip-custom-sections") {
      // The records linkpass consumed; js_bindgen.test stays for the runner.
      passes.push(
        stripCustomSections({ remove: ["js_bindgen.*", "linkpass.*"], keep: ["js_bindgen.test"] }),
      );
    }
    if (!wanted) continue;
    const trigger = def.options[0]?.flags.match(/^--([a-z0-9-]+)/)?.[1] ?? def.name;
    const key = trigger.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const values: Record<string, unknown> = typeof wanted === "object" ? { ...wanted } : {};
    values[key] ??= def.options[0]?.preset ?? true;
    let pass;
    try {
      pass = def.fromOptions(values);
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) {
        throw new UsageError(
          `Invalid options for pass "${def.name}" in ${config.source}: ${e.message}`,
        );
      }
      throw e;
    }
    if (pass) passes.push(pass);
  }
  return passes;
}
