/**
 * `linkpass link`: link like wasm-ld (what the `linkpass-ld` shim runs).
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { examples } from "./io.ts";

/** Links with wasm-ld's arguments, printing the linker's warnings and output. */
export async function linkCommand(args: string[]): Promise<void> {
  const { link } = await import("../linker/link.ts");
  await link({
    args,
    onWarning: (line) => console.error(line),
    onStdout: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
  });
}

/** Adds `link` to the program. */
export function registerLink(program: Command): void {
  program.command("link")
    .description("link like wasm-ld, assembling embedded WAT and adding JS glue")
    .argument("[wasm-ld-args...]", "wasm-ld arguments, @response files and --linker PATH")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .addHelpText(
      "after",
      examples(
        "linkpass link --no-entry --export=run app.o -o app.wasm",
        "linkpass link @args.rsp --linker /usr/bin/rust-lld",
      ),
    )
    .action(linkCommand);
}
