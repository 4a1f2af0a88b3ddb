/**
 * `linkpass glue <module>`: writes the JS glue of a linked module for deployment, from its
 * `js_bindgen.js_output` section (what js-bindgen's linker and `linkpass link` write) or, for a
 * module linked by a plain wasm-ld, from its `js_bindgen.import`/`.embed` records.
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { basename, dirname, join } from "node:path";
import { type OutputFile, writeOutputs } from "../fs.ts";
import { UsageError } from "../errors.ts";
import { examples, printWarnings, readInput, withFile } from "./io.ts";

/** Writes the glue of `input` (the `.js` and, unless `dts` is false, the `.d.ts`) together. */
export async function glueCommand(
  input: string,
  options: { output?: string; dts: boolean },
): Promise<void> {
  const { generateGlue, glueFromJsOutput } = await import("../glue/generate.ts");
  const { WasmModule } = await import("../wasm/module.ts");
  const bytes = await readInput(input, Deno.readFile);
  const module = withFile(input, () => WasmModule.parse(bytes, { file: input }));
  const stem = basename(input).replace(/\.wasm$/i, "");
  const out = options.output ?? join(dirname(input), `${stem}.js`);
  if (!out.endsWith(".js") && !out.endsWith(".mjs")) {
    throw new UsageError(`Invalid -o "${out}": the glue is an ES module, name it *.js or *.mjs`, 2);
  }
  const glue = glueFromJsOutput(module, { wasmFile: basename(input) }) ??
    generateGlue(module, { wasmFile: basename(input) });
  const files: OutputFile[] = [{ path: out, contents: glue.js }];
  if (options.dts) files.push({ path: out.replace(/\.m?js$/, ".d.ts"), contents: glue.dts });
  await writeOutputs(files);
  printWarnings(
    glue.report.missing.map((m) => `no JS for import "${m}": pass it to extendImportObject`),
  );
}

/** Adds `glue` to the program. */
export function registerGlue(program: Command): void {
  program.command("glue")
    .description(
      "write the JS glue (<stem>.js and .d.ts) of a linked module from its js_bindgen.js_output",
    )
    .argument("<input>", "the linked .wasm module")
    .option("-o, --output <file>", "the .js to write (default: beside the module, <stem>.js)")
    .option("--no-dts", "do not write the .d.ts")
    .addHelpText(
      "after",
      examples("linkpass glue target/app.wasm", "linkpass glue app.wasm -o web/app.js"),
    )
    .action(glueCommand);
}
