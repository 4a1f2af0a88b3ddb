/**
 * `linkpass demo`: the main job on the bundled example module.
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { formatInspect, inspectModule } from "../inspect.ts";
import { panic } from "../passes/panic.ts";
import { stripCustomSections } from "../passes/strip_custom_sections.ts";
import type { Pass } from "../passes/types.ts";
import { runPipeline } from "../pipeline.ts";
import { examples } from "./io.ts";
import { Progress } from "./progress.ts";
import { formatReport } from "./report.ts";

/**
 * The demo's passes: panics become traps (core::fmt and the rest of Rust's panic machinery go
 * away), then DWARF and producers are dropped; the name section stays.
 */
export function demoPipeline(): Pass[] {
  return [
    panic({ mode: "trap" }),
    stripCustomSections({ remove: ["debug", "producers"], keep: ["name"] }),
  ];
}

/** Runs the demo and prints the module before and after, and the report. */
export async function demoCommand(): Promise<void> {
  const input = new URL("../examples/demo/app.wasm", import.meta.url);
  const bytes = input.protocol === "file:"
    ? await Deno.readFile(input)
    : new Uint8Array(await (await fetch(input)).arrayBuffer());
  const progress = new Progress();
  const result = await runPipeline(bytes, demoPipeline(), {
    file: "examples/demo/app.wasm",
    onProgress: progress.phase,
  }).finally(() => progress.done());
  console.log(formatInspect(inspectModule(bytes, "examples/demo/app.wasm (before)")));
  console.log();
  console.log(formatInspect(inspectModule(result.bytes, "after")));
  console.log();
  console.log(formatReport(result.report, "table"));
}

/** Adds `demo` to the program. */
export function registerDemo(program: Command): void {
  program.command("demo")
    .description("run the main job on the bundled example module and print a report")
    .addHelpText("after", examples("linkpass demo"))
    .action(demoCommand);
}
