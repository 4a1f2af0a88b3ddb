/**
 * `linkpass run`: run a linked module in Deno (what the `linkpass-run` shim runs).
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { examples, readInput, status } from "./io.ts";

/** Runs `input` with `args`; the module's exit code becomes the process's. */
export async function runCommand(input: string, args: string[]): Promise<void> {
  const { runModule } = await import("../runner/run.ts");
  const bytes = await readInput(input, Deno.readFile);
  const encoder = new TextEncoder();
  status.exitCode = await runModule(bytes, {
    file: input,
    args,
    onOutput: (stream, text) =>
      (stream === "stdout" ? Deno.stdout : Deno.stderr).writeSync(encoder.encode(text)),
  });
}

/** Adds `run` to the program. */
export function registerRun(program: Command): void {
  program.command("run")
    .description(
      "run a linked module in Deno with glue generated in memory: main/_start, or its js_bindgen.test tests like libtest",
    )
    .argument("<input>", "the linked .wasm module")
    .argument(
      "[args...]",
      "program arguments, or libtest arguments (filters, --exact, --ignored, ...)",
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      "after",
      examples(
        "linkpass run app.wasm -- arg1 arg2",
        "linkpass run tests.wasm math --exact",
        "linkpass run tests.wasm --list",
      ),
    )
    .action(runCommand);
}
