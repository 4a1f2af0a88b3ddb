/**
 * A script that composes a pipeline from built-in passes and a user pass, runs it on the bundled
 * example, prints the report and writes nothing: what a build script of one's own looks like.
 *
 *   deno run -A examples/compose_pipeline.ts [input.wasm]
 * @module
 */
import { runPipeline, stripCustomSections } from "../mod.ts";
import dropExports from "./ir_pass.ts";

const input = await Deno.readFile(
  Deno.args[0] ?? new URL("./demo/app.wasm", import.meta.url),
);
const { bytes, report } = await runPipeline(input, [
  dropExports({ export: ["fib_at"] }),
  stripCustomSections({ remove: ["debug", "producers"] }),
]);
for (const run of report.passes) {
  console.log(`${run.name}: ${JSON.stringify(run.report)} (${run.ms.toFixed(1)} ms)`);
}
console.log(`${report.inputBytes} → ${bytes.length} bytes, validated: ${report.validated}`);
const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {});
console.log(`exports: ${Object.keys(instance.exports).join(", ")}`);
