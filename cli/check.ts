/**
 * `linkpass check`: check the embedded WAT and JS of objects and archives without linking.
 * @module
 */
import { type Command, Option } from "../deps/commander.ts";
import { UsageError } from "../errors.ts";
import { examples } from "./io.ts";

/** Checks `inputs` and prints every problem; fails when there is one. */
export async function checkCommand(
  inputs: string[],
  o: { target?: "wasm32" | "wasm64"; json?: boolean },
): Promise<void> {
  const { checkInputs } = await import("../linker/check.ts");
  const report = await checkInputs(inputs, { target: o.target });
  if (o.json) console.log(JSON.stringify(report, null, 2));
  else {
    for (const p of report.problems) {
      console.error(`error: ${p.message}`);
      if (p.frame) console.error(p.frame);
    }
    console.log(
      `checked ${report.inputs} input(s): ${report.fragments} WAT fragment(s), ${report.snippets} JS snippet(s), ${report.problems.length} problem(s)`,
    );
  }
  if (report.problems.length) {
    throw new UsageError(`${report.problems.length} problem(s) in the embedded WAT/JS`, 1);
  }
}

/** Adds `check` to the program. */
export function registerCheck(program: Command): void {
  program.command("check")
    .description("check the embedded WAT and JS of objects/archives, without linking")
    .argument("<inputs...>", ".o, .rlib or .a files")
    .addOption(
      new Option("--target <arch>", "target of the fragments (default: detected from the objects)")
        .choices(["wasm32", "wasm64"] as const),
    )
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      examples(
        "linkpass check target/wasm32-unknown-unknown/release/deps/*.rlib",
        "linkpass check app.o --json",
      ),
    )
    .action(checkCommand);
}
