/**
 * The post-link side of linker mode: which memory import to ask for, which passes run on the
 * linked module (registry order, the strip of the records linkpass consumed included), and where
 * cargo will copy the output.
 * @module
 */
import { basename, dirname } from "node:path";
import type { Pass, SectionPass } from "../passes/types.ts";
import { orderPasses, passesFromConfig } from "../passes/mod.ts";
import { stripCustomSections } from "../passes/strip_custom_sections.ts";
import { lastValue, type LinkArgs } from "./args.ts";
import type { LinkConfig } from "./config.ts";
import { CONSUMED_SECTIONS, KEPT_SECTIONS } from "./finish.ts";

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

/**
 * Builds the post-link passes: the configured ones (as `passesFromConfig` reads them; `js-glue`
 * is left out, the link writes the glue itself) and the strip of the records linkpass consumed
 * (`js_bindgen.*` and `linkpass.*`, but `js_bindgen.test`, which the runner reads), in registry
 * order.
 */
export function postLinkPasses(config: LinkConfig): Pass[] {
  const configured = passesFromConfig(config.passes ?? {}, config.source)
    .filter((p) => p.name !== "js-glue");
  const records = stripCustomSections({
    remove: CONSUMED_SECTIONS,
    keep: KEPT_SECTIONS,
  }) as SectionPass;
  // The records may or may not be there: no "matched nothing" warnings for this internal strip.
  const ownStrip: SectionPass = {
    ...records,
    run: (module, ctx) => records.run(module, { ...ctx, warn: () => {} }),
  };
  return orderPasses([...configured, ownStrip], []);
}
