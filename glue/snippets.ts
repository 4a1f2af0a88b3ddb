/**
 * Parsing JS snippets with acorn, as they are used in the glue: one expression evaluated inside
 * a class that declares the private fields `#jsEmbed` and `#memory`. A syntax error becomes a
 * message with the line and column inside the snippet and a code frame.
 * @module
 */
import { parse } from "../deps/acorn.ts";
import type { Expression, Node, Program } from "../deps/acorn.ts";

const PREFIX = "(class { #jsEmbed; #memory; m() { return (\n";
const SUFFIX = "\n); } });";

/** A snippet that did not parse: where (1-based, inside the snippet) and why. */
export interface SnippetSyntaxError {
  /** 1-based line inside the snippet. */
  line: number;
  /** 1-based column inside the snippet. */
  column: number;
  /** The parser's message. */
  reason: string;
  /** The snippet's lines around the error, with a caret under the column. */
  frame: string;
}

/**
 * Parses `text` as one expression in the glue's class context. Returns its ESTree node, or the
 * syntax error. Text that would close the surrounding parentheses or method is a syntax error
 * too, so a snippet can only ever become one expression of the generated program.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseSnippet } from "./snippets.ts";
 * const ok = parseSnippet("(x) => this.#jsEmbed.m['f'](x)");
 * assert.ok("node" in ok);
 * const bad = parseSnippet("(x) => x +* 1");
 * assert.ok("error" in bad && bad.error.line === 1);
 * ```
 */
export function parseSnippet(
  text: string,
): { node: Expression } | { error: SnippetSyntaxError } {
  const source = PREFIX + text + SUFFIX;
  const start = PREFIX.length;
  const end = start + text.length;
  let program: Program;
  try {
    program = parse(source, {
      ecmaVersion: "latest",
      sourceType: "module",
      locations: true,
    }) as unknown as Program;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    const pos = (e as SyntaxError & { pos?: number }).pos ?? end;
    return { error: errorAt(text, pos - start, e.message.replace(/ \(\d+:\d+\)$/, "")) };
  }
  const node = soleExpression(program);
  if (
    !node || (node as Node & { start: number }).start < start ||
    (node as Node & { end: number }).end > end
  ) {
    // The text closed the wrapper: point at the first character outside one expression.
    const at = node && (node as Node & { end: number }).end <= end
      ? (node as Node & { end: number }).end - start
      : 0;
    return { error: errorAt(text, at, "the snippet must be exactly one JS expression") };
  }
  return { node };
}

/** The returned expression when the program has exactly the wrapper's shape. */
function soleExpression(program: Program): Expression | undefined {
  if (program.body.length !== 1) return undefined;
  const stmt = program.body[0];
  if (stmt.type !== "ExpressionStatement" || stmt.expression.type !== "ClassExpression") {
    return undefined;
  }
  const members = stmt.expression.body.body;
  if (members.length !== 3) return undefined;
  const method = members[2];
  if (method.type !== "MethodDefinition" || method.value.body.body.length !== 1) return undefined;
  const ret = method.value.body.body[0];
  if (ret.type !== "ReturnStatement" || !ret.argument) return undefined;
  return ret.argument;
}

/** Builds the error for an offset into the snippet (clamped to the snippet). */
function errorAt(text: string, offset: number, reason: string): SnippetSyntaxError {
  const at = Math.max(0, Math.min(offset, text.length));
  const before = text.slice(0, at).split("\n");
  const line = before.length;
  const column = before[before.length - 1].length + 1;
  return { line, column, reason, frame: codeFrame(text, line, column) };
}

/**
 * Renders lines around `line` of `text` with a `>` marker and a caret under `column` (both
 * 1-based), like Babel's code frames.
 */
export function codeFrame(text: string, line: number, column: number, context = 2): string {
  const lines = text.split("\n");
  const first = Math.max(1, line - context);
  const last = Math.min(lines.length, line + context);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const gutter = `${n === line ? ">" : " "} ${String(n).padStart(width)} |`;
    const content = lines[n - 1].replace(/\t/g, "  ");
    out.push(content ? `${gutter} ${content}` : gutter);
    if (n === line) {
      const lead = lines[n - 1].slice(0, column - 1).replace(/\t/g, "  ").replace(/[^ ]/g, " ");
      out.push(`  ${" ".repeat(width)} | ${lead}^`);
    }
  }
  return out.join("\n");
}
