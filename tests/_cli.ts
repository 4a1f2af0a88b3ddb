/**
 * Runs `deno` and the linkpass CLI in a subprocess as a user would (no terminal, `NO_COLOR`).
 * @module
 */

/** The repository's root directory (with a trailing slash). */
export const REPO = new URL("..", import.meta.url).pathname;
/** The CLI's entry point. */
export const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** A finished subprocess: its exit code and decoded output. */
export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` with `NO_COLOR=1` (plus `options`) and returns its exit code and output. */
export async function runDeno(
  args: string[],
  options: Pick<Deno.CommandOptions, "cwd" | "stdin"> = {},
): Promise<CliOutput> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    ...options,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the CLI (`deno run <perms> cli.ts <args>`, `-A` unless `perms` says otherwise). */
export function runCli(
  args: string[],
  options: Pick<Deno.CommandOptions, "cwd" | "stdin"> & { perms?: string[] } = {},
): Promise<CliOutput> {
  const { perms = ["-A"], ...rest } = options;
  return runDeno(["run", ...perms, CLI, ...args], rest);
}
