/**
 * `linkpass run`: runs a linked module (a binary, or a test harness like libtest) in Deno, Node
 * or headless Chromium, as js-bindgen's runner does (what the `linkpass-run` shim runs).
 * @module
 */
import { type Command, Option } from "../deps/commander.ts";
import { examples, readInput, status } from "./io.ts";

/** Runs `input` with `args` on `engine`; the module's exit code becomes the process's. */
export async function runCommand(
  input: string,
  args: string[],
  options: { engine?: string },
): Promise<void> {
  const { runModule } = await import("../runner/run.ts");
  const bytes = await readInput(input, Deno.readFile);
  const encoder = new TextEncoder();
  status.exitCode = await runModule(bytes, {
    file: input,
    args,
    engine: options.engine,
    onOutput: (stream, text) => {
      const data = encoder.encode(text);
      const to = stream === "stdout" ? Deno.stdout : Deno.stderr;
      for (let n = 0; n < data.length;) n += to.writeSync(data.subarray(n));
    },
  });
}

/** Adds `run` to the program. */
export function registerRun(program: Command): void {
  program.command("run")
    .description(
      "run a linked module: main/_start, or its js_bindgen.test tests like libtest, in Deno, Node or headless Chromium",
    )
    .argument("<input>", "the linked .wasm module")
    .argument(
      "[args...]",
      "program arguments, or libtest arguments (filters, --exact, --ignored, ...); put them after -- when one is spelled like --engine",
    )
    .addOption(
      new Option(
        "--engine <engine>",
        "deno (in process), node or chromium; default: JBG_TEST_RUNNER (deno, node-js, chrome-driver), else the engine whose JBG_TEST_<ENGINE>_PATH is set, else deno",
      ),
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      "after",
      examples(
        "linkpass run app.wasm -- arg1 arg2",
        "linkpass run tests.wasm math --exact",
        "linkpass run --engine node tests.wasm",
      ),
    )
    .action(runCommand);
}
