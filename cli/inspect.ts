/**
 * `linkpass inspect`: sections with sizes, custom sections, imports/exports and names.
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { formatInspect, inspectModule } from "../inspect.ts";
import { readModuleFile } from "../wasm/file.ts";
import { examples, readInput, withFile } from "./io.ts";

/** Prints the summary of `input` (JSON with `json`). */
export async function inspectCommand(input: string, o: { json?: boolean }): Promise<void> {
  const module = await readInput(input, readModuleFile);
  const report = withFile(input, () => inspectModule(module, input));
  console.log(o.json ? JSON.stringify(report, null, 2) : formatInspect(report));
}

/** Adds `inspect` to the program. */
export function registerInspect(program: Command): void {
  program.command("inspect")
    .description("show sections with sizes, custom sections, imports/exports and names")
    .argument("<input>", "input .wasm module or .o object")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "linkpass inspect app.wasm",
        "linkpass inspect target/wasm32-unknown-unknown/release/deps/app.o",
        "linkpass inspect app.wasm --json | jq '.customSections'",
      ),
    )
    .action(inspectCommand);
}
