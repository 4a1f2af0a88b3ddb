/**
 * Pass `js-glue`: turns the `js_bindgen.import`/`js_bindgen.embed` records of a linked module
 * into an ES module and its type declarations next to the output (`app.wasm` → `app.js` +
 * `app.d.ts`), and strips the two sections it consumed (`js_bindgen.test` stays for the runner).
 *
 * File names: the pass emits `<stem>.js` and `<stem>.d.ts`, where `<stem>` is `name` without a
 * `.wasm` extension; without `name` it is the stem of the pipeline's output file (`ctx.output`),
 * else of its input (`ctx.file`), else `module`. The glue loads `<stem>.wasm` from its own directory by default.
 *
 * The generator itself (`generateGlue` in glue/generate.ts) loads on first use, so the CLI starts
 * without the JS parser.
 * @module
 */
import { basename } from "node:path";
import type { GlueReport } from "../glue/generate.ts";
import {
  definePass,
  type ImportName,
  importName,
  type OptionSpec,
  type PassFactory,
  type PassInput,
  string,
} from "./define.ts";

export type { Glue, GlueOptions, GlueProblem, GlueReport } from "../glue/generate.ts";

/** The stem of a module file name: `dir/app.wasm` → `app`. */
export function glueStem(name: string): string {
  return basename(name).replace(/\.wasm$/i, "");
}

/** The options of {@linkcode jsGlue}, as its definition declares them. */
export interface JsGlueSchema extends Record<string, OptionSpec> {
  /** File name or stem of the glue. */
  name: OptionSpec<string>;
  /** The main memory import. */
  memory: OptionSpec<ImportName>;
}

/**
 * The `js-glue` pass.
 *
 * @example Emit app.js and app.d.ts
 * ```ts
 * import assert from "node:assert";
 * import { jsGlue } from "./js_glue.ts";
 * const pass = jsGlue({ name: "app.wasm" });
 * assert.strictEqual(pass.name, "js-glue");
 * assert.throws(() => jsGlue({ memory: "memory" }), /write module\/name/);
 * ```
 */
export const jsGlue: PassFactory<JsGlueSchema> = definePass<JsGlueSchema>({
  name: "js-glue",
  description:
    "write an ES module (<output>.js + .d.ts) from the js_bindgen.import/embed snippets and strip them",
  level: "sections",
  options: {
    name: string({
      help: "file name or stem of the glue (default: the output file's)",
      value: "file",
      check: (v: string) => {
        if (!glueStem(v)) {
          throw new RangeError(`"${v}" has no file name: give one such as "app.wasm"`);
        }
      },
    }),
    memory: importName({
      help: "the main memory import (default js_bindgen/memory, or the only memory import)",
      flag: "glue-memory",
    }),
  },
  create: (options) => ({
    async run(module, ctx) {
      const { generateGlue } = await import("../glue/generate.ts");
      const { EMBED_SECTION, IMPORT_SECTION } = await import("../glue/records.ts");
      const stem = glueStem(options.name ?? ctx.output ?? ctx.file ?? "module") || "module";
      const glue = generateGlue(module, { memory: options.memory, wasmFile: `${stem}.wasm` });
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
    // It removes two custom sections and writes files: no code, so no feature.
    preservesFeatures: true,
  }),
});

/** Options of {@linkcode jsGlue}. */
export type JsGlueOptions = PassInput<typeof jsGlue.definition.options>;
