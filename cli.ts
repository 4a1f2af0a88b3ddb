/**
 * The linkpass command line. This file builds the program and turns every error into one line
 * and an exit code; each command lives in its own file under `cli/`.
 *
 * ```
 * deno run -A cli.ts opt app.wasm -o app.min.wasm --strip-custom-sections debug
 * deno run -A cli.ts inspect app.wasm
 * deno run -A cli.ts passes
 * ```
 *
 * Adding a command: write `cli/<name>.ts` exporting `register<Name>(program: Command): void`,
 * which calls `program.command("<name>")`, describes it (with `examples(...)` at the end of its
 * help) and sets an action that calls a named function of the same file. Then add the register
 * function to {@linkcode COMMANDS} below. Actions throw {@linkcode LinkpassError}s (or any
 * `Deno.errors.*`, which {@linkcode main} turns into one line); they never print stack traces or
 * exit. A command that wants a non-zero exit without failing sets `status.exitCode`
 * (`cli/io.ts`).
 * @module
 */
import { Command, CommanderError } from "./deps/commander.ts";
import { describeError, type LinkpassError } from "./errors.ts";
import { status } from "./cli/io.ts";
import { registerOpt } from "./cli/opt.ts";
import { registerInspect } from "./cli/inspect.ts";
import { registerPasses } from "./cli/passes.ts";
import { registerAsm } from "./cli/asm.ts";
import { registerLink } from "./cli/link.ts";
import { registerCheck } from "./cli/check.ts";
import { registerRun } from "./cli/run.ts";
import { registerGlue } from "./cli/glue.ts";
import { registerDemo } from "./cli/demo.ts";
import { registerSizeCommands } from "./cli/size.ts";
import { registerCompletions } from "./cli/completions.ts";

/** linkpass's version (also in deno.json). */
export const VERSION = "0.1.0";

/** Every command, in the order `--help` lists them: one `register<Name>` per `cli/` file. */
export const COMMANDS: ((program: Command) => void)[] = [
  registerOpt,
  registerInspect,
  registerPasses,
  registerAsm,
  registerLink,
  registerCheck,
  registerRun,
  registerGlue,
  registerDemo,
  registerSizeCommands, // extends inspect and opt, so after them
  registerCompletions,
];

/** Builds the command tree. Exported for tests that want the help text. */
export function buildProgram(): Command {
  const program = new Command()
    .name("linkpass")
    .description("Composable WebAssembly link passes")
    .version(VERSION)
    .configureHelp({ helpWidth: 100 })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");
  for (const register of COMMANDS) register(program);
  return program;
}

/** True when LINKPASS_DEBUG is set (and readable: no env permission means no). */
function debugging(): boolean {
  const variable = "LINKPASS_DEBUG";
  try {
    const { state } = Deno.permissions.querySync({ name: "env", variable });
    return state === "granted" && !!Deno.env.get(variable);
  } catch {
    return false;
  }
}

/** Runs the CLI with `args`; returns the exit code. No arguments print the help and return 2. */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  status.exitCode = 0;
  if (args.length === 0) {
    console.error(program.helpInformation());
    return 2;
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return status.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" ||
          e.code === "commander.help"
        ? 0
        : 2;
    }
    const described = describeError(e);
    if (!described) throw e;
    for (const line of described.details) console.error(line);
    console.error(`error: ${described.message}`);
    const cause = (e as LinkpassError).cause;
    if (debugging() && cause instanceof Error) console.error(cause.stack);
    return described.exitCode;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
