/**
 * A user project's build step: the passes come from the `linkpass` key of this folder's
 * deno.json (the same configuration `linkpass link` reads), the module from the command line.
 * In a real project the import map points `linkpass` at a URL or a published version.
 *
 *   deno task shrink
 * @module
 */
import { loadConfig, passesFromConfig, runPipeline, writeFileAtomic } from "linkpass";

const [input, output] = Deno.args;
if (!input || !output) {
  console.error("usage: shrink.ts <input.wasm> <output.wasm>");
  Deno.exit(2);
}
const config = await loadConfig(".");
const passes = passesFromConfig(config.passes ?? {}, config.source ?? "deno.json");
const { bytes, report } = await runPipeline(await Deno.readFile(input), passes, { file: input });
await Deno.mkdir(new URL(".", new URL(output, `file://${Deno.cwd()}/`)), { recursive: true });
await writeFileAtomic(output, bytes);
console.log(
  `${input} → ${output}: ${report.inputBytes} → ${bytes.length} bytes (${
    report.passes.map((p) => p.name).join(", ")
  })`,
);
