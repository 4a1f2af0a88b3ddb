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

/**
 * A string literal whose source cannot end the string or a `<script>` element: JSON escaping,
 * plus `<` and the line separators U+2028/U+2029 as `\u` escapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { safeString } from "./snippets.ts";
 * assert.strictEqual(safeString("</script>"), '"\\u003c/script>"');
 * assert.strictEqual(eval(safeString("a\u2028b</script>")), "a\u2028b</script>");
 * ```
 */
export function safeString(value: string): string {
  return JSON.stringify(value).replace(
    /[<\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Escapes the cooked text of an untagged template element so it reads back the same. */
function safeTemplateText(cooked: string): string {
  return cooked.replace(/[\\`<\u2028\u2029]|\$\{/g, (c) => {
    if (c === "\\") return "\\\\";
    if (c === "`") return "\\`";
    if (c === "${") return "\\${";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

type Ranged = Node & { start: number; end: number };

/**
 * Prepares a snippet for the glue: checks it is exactly one expression (as
 * {@linkcode parseSnippet}), then returns its own source text, parenthesized on lines of their
 * own, with only its string and template literals (and regex and comment text that could close a
 * `<script>`) re-escaped. Nothing is reprinted, so the expression means exactly what it meant.
 * A tagged template whose raw text holds `</script` cannot be escaped without changing
 * `String.raw`, and is an error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { prepareSnippet } from "./snippets.ts";
 * const ok = prepareSnippet("new (a?.b)()");
 * assert.ok("source" in ok && ok.source === "(\nnew (a?.b)()\n)");
 * ```
 */
export function prepareSnippet(text: string): { source: string } | { error: SnippetSyntaxError } {
  const parsed = parseSnippet(text);
  if ("error" in parsed) return parsed;
  const base = PREFIX.length;
  const edits: { start: number; end: number; text: string }[] = [];
  const comments: { start: number; end: number }[] = [];
  // The comments: parse again, collecting them (parseSnippet's tree has no comment list).
  parse(PREFIX + text + SUFFIX, {
    ecmaVersion: "latest",
    sourceType: "module",
    onComment: (_block, _text, start, end) => comments.push({ start, end }),
  });
  let problem: string | undefined;
  const visit = (node: unknown, parent?: Ranged): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, parent);
      return;
    }
    if (!node || typeof node !== "object" || typeof (node as Node).type !== "string") return;
    const n = node as Ranged & Record<string, unknown>;
    const risky = (raw: string) => /[<\u2028\u2029]/.test(raw);
    const source = PREFIX + text + SUFFIX;
    if (n.type === "Literal" && typeof n.value === "string") {
      // Only literals that need it are rewritten (a directive such as "use strict" stays as is).
      if (risky(source.slice(n.start, n.end))) {
        edits.push({ start: n.start, end: n.end, text: safeString(n.value) });
      }
    } else if (n.type === "Literal" && n.regex) {
      const raw = source.slice(n.start, n.end);
      const escaped = raw.replace(/<\//g, "<\\/");
      const before = (PREFIX + text)[n.start - 1];
      if (escaped !== raw || before === "<") {
        edits.push({ start: n.start, end: n.end, text: (before === "<" ? " " : "") + escaped });
      }
    } else if (n.type === "TemplateElement") {
      const value = n.value as { raw: string; cooked: string | null };
      if (parent?.type === "TemplateLiteral" && value.cooked !== null) {
        if (risky(value.raw)) {
          edits.push({ start: n.start, end: n.end, text: safeTemplateText(value.cooked) });
        }
      } else if (/<\/script/i.test(value.raw)) {
        problem = "a tagged template's raw text holds </script, which cannot be escaped " +
          "without changing what the tag sees; build the text from parts";
      }
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === "loc" || !v || typeof v !== "object") continue;
      if (n.type === "TaggedTemplateExpression" && k === "quasi") {
        // The quasi's elements keep their raw text: the tag can see it.
        visit((v as Record<string, unknown>).expressions, n);
        visit((v as Record<string, unknown>).quasis, n);
        continue;
      }
      visit(v, n);
    }
  };
  visit(parsed.node);
  for (const c of comments) {
    if (c.start < base || c.end > base + text.length) continue;
    const raw = (PREFIX + text)[c.start] === undefined ? "" : (PREFIX + text).slice(c.start, c.end);
    if (/<\//.test(raw)) {
      edits.push({ start: c.start, end: c.end, text: raw.replace(/<\//g, "<\\/") });
    }
  }
  if (problem) return { error: errorAt(text, 0, problem) };
  edits.sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of edits) {
    out = out.slice(0, e.start - base) + e.text + out.slice(e.end - base);
  }
  if (/<\/script/i.test(out)) {
    return {
      error: errorAt(
        text,
        text.search(/<\/script/i),
        "the snippet's code (outside strings and comments) spells </script; add a space",
      ),
    };
  }
  return { source: `(\n${out}\n)` };
}
