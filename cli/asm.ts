/**
 * `linkpass asm`: assemble rwat WAT into a relocatable object.
 * @module
 */
import { type Command, Option } from "../deps/commander.ts";
import { writeOutputs } from "../fs.ts";
import { examples, readInput } from "./io.ts";

/** The assembler, loaded when `asm` runs (not on every command). */
const asm = () => import("../asm/mod.ts");

/** Assembles `input` into `o.output`. */
export async function asmCommand(
  input: string,
  o: { output: string; target: "wasm32" | "wasm64"; fragment?: boolean },
): Promise<void> {
  const text = await readInput(input, Deno.readTextFile);
  const options = { file: input, target: o.target };
  const object = o.fragment
    ? await (await asm()).assembleFragment(text, options)
    : await (await asm()).assembleModule(text, options);
  await writeOutputs([{ path: o.output, contents: object }]);
}

/** Adds `asm` to the program. */
export function registerAsm(program: Command): void {
  program.command("asm")
    .description("assemble rwat WAT ((@sym), (@reloc)) into a relocatable object")
    .argument(
      "<input>",
      "a (module (@rwat) ...) text, or with --fragment one js_bindgen.wat record",
    )
    .requiredOption("-o, --output <file>", "output object file (written atomically)")
    .addOption(
      new Option("--target <arch>", "wasm64 adds the i64 env.__linear_memory import")
        .choices(["wasm32", "wasm64"] as const).default("wasm32" as const),
    )
    .option("--fragment", "the input holds module fields without (module ...), like a record")
    .addHelpText(
      "after",
      examples(
        "linkpass asm helpers.wat -o helpers.o",
        "linkpass asm --fragment record.wat -o record.o --target wasm64",
      ),
    )
    .action(asmCommand);
}
