/**
 * `linkpass glue <module>`: writes the JS glue of a linked module for deployment, from its
 * `js_bindgen.js_output` section (what js-bindgen's linker and `linkpass link` write) or, for a
 * module linked by a plain wasm-ld, from its `js_bindgen.import`/`.embed` records. Registered by
 * cli.ts.
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../fs.ts";
import { UsageError } from "../errors.ts";
import { readModuleBytes } from "./run.ts";

/** Adds `glue` to the program. */
export function registerGlue(program: Command): void {
  program.command("glue")
    .description(
      "write the JS glue (<stem>.js and .d.ts) of a linked module from its js_bindgen.js_output",
    )
    .argument("<input>", "the linked .wasm module")
    .option("-o, --output <file>", "the .js to write (default: beside the module, <stem>.js)")
    .option("--no-dts", "do not write the .d.ts")
    .action(async (input, options) => {
      const { generateGlue, glueFromJsOutput } = await import("../glue/generate.ts");
      const { WasmModule } = await import("../wasm/module.ts");
      const bytes = await readModuleBytes(input);
      const module = WasmModule.parse(bytes, { file: input });
      const stem = basename(input).replace(/\.wasm$/i, "");
      const out = options.output ?? join(dirname(input), `${stem}.js`);
      if (!out.endsWith(".js") && !out.endsWith(".mjs")) {
        throw new UsageError(
          `Invalid -o "${out}": the glue is an ES module, name it *.js or *.mjs`,
          2,
        );
      }
      const glue = glueFromJsOutput(module, { wasmFile: basename(input) }) ??
        generateGlue(module, { wasmFile: basename(input) });
      await writeFileAtomic(out, glue.js);
      if (options.dts) await writeFileAtomic(out.replace(/\.m?js$/, ".d.ts"), glue.dts);
      for (const missing of glue.report.missing) {
        console.error(`warning: no JS for import "${missing}": pass it to extendImportObject`);
      }
    });
}
