/**
 * Turning linker-mode errors into the lines an entry point prints (the CLI's `link`/`check`
 * commands and the `linkpass-ld` shim share this; neither this file nor the library prints).
 * @module
 */
import { PassError, UsageError } from "../passes/types.ts";
import { ValidationError } from "../pipeline.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { FragmentErrors, LinkerFailedError } from "./link.ts";

/** What to print for an error: detail lines, then `error: message`; undefined for a bug. */
export interface LinkErrorReport {
  /** Lines printed before the error line (the linker's messages, code frames). */
  details: string[];
  /** The one-line message (without `error: `). */
  message: string;
  exitCode: number;
}

/** Describes a linker-mode error, or returns undefined for a bug (rethrow it). */
export function describeLinkError(e: unknown): LinkErrorReport | undefined {
  if (e instanceof LinkerFailedError) {
    return {
      details: [e.stderr.trimEnd()].filter(Boolean),
      message: e.message,
      exitCode: e.exitCode,
    };
  }
  if (e instanceof FragmentErrors) {
    const details: string[] = [];
    if (e.errors.length > 1) {
      for (const err of e.errors) details.push(`error: ${err.message}`, err.frame, "");
    } else details.push(e.errors[0].frame);
    return { details, message: e.message, exitCode: 1 };
  }
  if (e instanceof UsageError) return { details: [], message: e.message, exitCode: e.exitCode };
  if (e instanceof ValidationError) return { details: [], message: e.message, exitCode: 1 };
  if (e instanceof PassError) {
    // A post-link pass refused the linked module (e.g. conflicting JS snippets).
    const inner = describeLinkError(e.cause);
    if (!inner && !(e.cause instanceof RangeError)) return undefined;
    return {
      details: inner?.details ?? [],
      message: `pass "${e.pass}" failed: ${inner?.message ?? (e.cause as Error).message}`,
      exitCode: 1,
    };
  }
  if (e instanceof WasmParseError) {
    return {
      details: [],
      message: `Cannot read "${e.file ?? "<input>"}": ${e.message}`,
      exitCode: 1,
    };
  }
  return undefined;
}
