/**
 * Pass `js-glue`: turns the `js_bindgen.import`/`js_bindgen.embed` records of a linked module
 * into an ES module and its type declarations next to the output (`app.wasm` → `app.js` +
 * `app.d.ts`), and strips the two sections it consumed (`js_bindgen.test` stays for the runner).
 *
 * File names: the pass emits `<stem>.js` and `<stem>.d.ts`, where `<stem>` is `name` without a
 * `.wasm` extension; without `name` it is the stem of the pipeline's file (`ctx.file`), else
 * `module`. The glue loads `<stem>.wasm` from its own directory by default.
 *
 * The generator itself (`generateGlue` in glue/generate.ts) loads on first use, so the CLI starts
 * without the JS parser.
 * @module
 */
import { basename } from "node:path";
import type { JsName } from "../glue/records.ts";
import type { GlueReport } from "../glue/generate.ts";
import type { Pass, PassDefinition } from "./types.ts";

export type { Glue, GlueOptions, GlueProblem, GlueReport } from "../glue/generate.ts";

/** Options of {@linkcode jsGlue}. */
export interface JsGlueOptions {
  /**
   * The output module's file name (`"app.wasm"`) or stem (`"app"`): the glue is emitted as
   * `app.js` and `app.d.ts` and loads `app.wasm` by default.
   */
  name?: string;
  /** The main memory's import (default: `js_bindgen`/`memory`, or the only memory import). */
  memory?: JsName;
}

/** The stem of a module file name: `dir/app.wasm` → `app`. */
export function glueStem(name: string): string {
  return basename(name).replace(/\.wasm$/i, "");
}

/**
 * Makes the `js-glue` pass.
 *
 * @example Emit app.js and app.d.ts
 * ```ts
 * import { jsGlue } from "./js_glue.ts";
 * const pass = jsGlue({ name: "app.wasm" });
 * console.assert(pass.name === "js-glue");
 * ```
 */
export function jsGlue(options: JsGlueOptions = {}): Pass {
  if (options.name !== undefined && (typeof options.name !== "string" || !glueStem(options.name))) {
    throw new TypeError(
      `Invalid js-glue name ${JSON.stringify(options.name)}: give a file name such as "app.wasm"`,
    );
  }
  const m = options.memory;
  if (m !== undefined && (typeof m?.module !== "string" || typeof m?.name !== "string")) {
    throw new TypeError("The js-glue memory option must be { module: string, name: string }");
  }
  return {
    name: "js-glue",
    description: definition.description,
    level: "sections",
    async run(module, ctx) {
      const { generateGlue } = await import("../glue/generate.ts");
      const { EMBED_SECTION, IMPORT_SECTION } = await import("../glue/records.ts");
      const stem = glueStem(options.name ?? ctx.file ?? "module") || "module";
      const glue = generateGlue(module, { memory: m, wasmFile: `${stem}.wasm` });
      ctx.emit(`${stem}.js`, glue.js);
      ctx.emit(`${stem}.d.ts`, glue.dts);
      module.sections = module.sections.filter((s) =>
        !(s.id === 0 && (s.name === IMPORT_SECTION || s.name === EMBED_SECTION))
      );
      for (const missing of glue.report.missing) {
        ctx.warn(`no JS snippet for import "${missing}": pass it to the glue's importObject`);
      }
      const report: GlueReport & { files: string[] } = {
        files: [`${stem}.js`, `${stem}.d.ts`],
        ...glue.report,
      };
      return { ...report };
    },
  };
}

/** Registry entry of `js-glue`. */
export const definition: PassDefinition = {
  name: "js-glue",
  description:
    "write an ES module (<output>.js + .d.ts) from the js_bindgen.import/embed snippets and strip them",
  level: "sections",
  options: [
    {
      flags: "--js-glue",
      description: "generate the JS glue next to the output file",
    },
    {
      flags: "--glue-memory <module/name>",
      description: "the main memory import (default js_bindgen/memory, or the only memory import)",
    },
  ],
  fromOptions(v) {
    if (!v.jsGlue) {
      if (v.glueMemory !== undefined) throw new RangeError("--glue-memory needs --js-glue");
      return undefined;
    }
    let memory: JsName | undefined;
    if (v.glueMemory !== undefined) {
      const text = String(v.glueMemory);
      const slash = text.indexOf("/");
      if (slash <= 0 || slash === text.length - 1) {
        throw new RangeError(`Invalid --glue-memory "${text}": write module/name, e.g. env/memory`);
      }
      memory = { module: text.slice(0, slash), name: text.slice(slash + 1) };
    }
    return jsGlue({ name: typeof v.glueName === "string" ? v.glueName : undefined, memory });
  },
};
