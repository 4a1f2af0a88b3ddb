/**
 * `linkpass link`: link like wasm-ld (what the `linkpass-ld` shim runs).
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { examples } from "./io.ts";
import type { LinkResult } from "../linker/link.ts";

/** Links with wasm-ld's arguments, printing the linker's warnings and output. */
export async function linkCommand(args: string[]): Promise<void> {
  const { link } = await import("../linker/link.ts");
  const result = await link({
    args,
    onWarning: (line) => console.error(line),
    onStdout: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
  });
  const line = inputPassesLine(result.inputPasses);
  if (line) console.error(line);
}

/** The summary `measureInputPasses` asks for: what the input passes removed from the link. */
export function inputPassesLine(r: LinkResult["inputPasses"]): string | undefined {
  if (!r?.measured) return undefined;
  const m = r.measured;
  const estimate = m.deadDataEstimate === undefined
    ? ""
    : `; post-link panic estimate ${m.deadDataEstimate}`;
  return `linkpass: input passes (${Object.keys(r.config).join(", ")}): ${r.changed} of ` +
    `${r.objects} objects changed, ${r.roots} panic roots; data ${m.dataBytes} -> ${r.dataBytes} ` +
    `bytes (${m.dataBytesRemoved} removed${estimate}), code ${m.codeBytes} -> ${r.codeBytes}`;
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
