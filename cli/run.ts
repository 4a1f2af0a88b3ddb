/**
 * `linkpass run`: runs a linked module (a binary, or a test harness like libtest) in Deno, Node
 * or headless Chromium, as js-bindgen's runner does. Registered by cli.ts.
 * @module
 */
import { Option } from "@commander-js/extra-typings";
import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** Reads the module, as a one-line user error when it cannot be read. */
export async function readModuleBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`Cannot read "${path}": no such file; check the path`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`Cannot read "${path}": it is a directory; pass a .wasm file`);
    }
    throw e;
  }
}

/** Adds `run` to the program; `setExitCode` receives the run's exit code. */
export function registerRun(
  program: Command,
  setExitCode: (code: number) => void,
): void {
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
    .action(async (input, args, options) => {
      const { runModule } = await import("../runner/run.ts");
      const bytes = await readModuleBytes(input);
      const encoder = new TextEncoder();
      setExitCode(
        await runModule(bytes, {
          file: input,
          args,
          engine: options.engine,
          onOutput: (stream, text) => {
            const data = encoder.encode(text);
            const to = stream === "stdout" ? Deno.stdout : Deno.stderr;
            for (let n = 0; n < data.length;) n += to.writeSync(data.subarray(n));
          },
        }),
      );
    });
}
