/**
 * Turning linker-mode errors into the lines an entry point prints (the CLI's `link`/`check`
 * commands and the `linkpass-ld` shim share this; neither this file nor the library prints).
 * @module
 */
import { UsageError } from "../passes/types.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { FragmentErrors, LinkerFailedError } from "./link.ts";

/** Lines for stderr and the exit code, or undefined for a bug (rethrow it). */
export function describeLinkError(e: unknown): { lines: string[]; exitCode: number } | undefined {
  if (e instanceof LinkerFailedError) {
    return {
      lines: [e.stderr.trimEnd(), `error: ${e.message}`].filter(Boolean),
      exitCode: e.exitCode,
    };
  }
  if (e instanceof FragmentErrors) {
    const lines: string[] = [];
    if (e.errors.length > 1) {
      for (const err of e.errors) lines.push(`error: ${err.message}`, err.frame, "");
    } else lines.push(e.errors[0].frame);
    lines.push(`error: ${e.message}`);
    return { lines, exitCode: 1 };
  }
  if (e instanceof UsageError) return { lines: [`error: ${e.message}`], exitCode: e.exitCode };
  if (e instanceof WasmParseError) {
    return { lines: [`error: Cannot read "${e.file ?? "<input>"}": ${e.message}`], exitCode: 1 };
  }
  return undefined;
}
