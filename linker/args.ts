/**
 * Parses a wasm-ld command line the way LLVM's OptTable does: response files first, then each
 * argument matched against the option table by its longest spelling, with the option's kind
 * deciding where its value comes from. Unknown options are kept (and reported) so they reach the
 * real linker unchanged.
 * @module
 */
import { UsageError } from "../errors.ts";
import {
  LINKPASS_OPTIONS,
  type OptionKind,
  type OptionSpec,
  WASM_LD_OPTIONS,
} from "./options_table.ts";

/** One parsed argument: an option with its values, or an input file. */
export type ParsedArg =
  | {
    type: "option";
    /** Canonical option id (aliases resolved), e.g. "library", "export", "o". */
    id: string;
    kind: OptionKind;
    /** The values (empty for flags; split at commas for comma-joined options). */
    values: string[];
    /** The command-line words this option used, verbatim. */
    raw: string[];
    /** True for linkpass's own options (never forwarded). */
    own: boolean;
  }
  | { type: "input"; path: string; raw: string[] }
  | { type: "unknown"; raw: string[] };

/** A parsed command line. */
export interface LinkArgs {
  /** Every argument in order. */
  args: ParsedArg[];
  /** True when a response file was expanded. */
  usedResponseFile: boolean;
  /** Warnings for the user (unknown options), one line each. */
  warnings: string[];
}

/** Splits response-file text with POSIX shell-like quoting (LLVM's `TokenizeGNUCommandLine`). */
export function tokenizePosix(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inToken) out.push(cur);
      cur = "";
      inToken = false;
      continue;
    }
    inToken = true;
    if (c === "\\" && i + 1 < text.length) {
      cur += text[++i];
    } else if (c === "'" || c === '"') {
      const quote = c;
      i++;
      while (i < text.length && text[i] !== quote) {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        cur += text[i++];
      }
    } else {
      cur += c;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** Splits response-file text with Windows quoting (LLVM's `TokenizeWindowsCommandLine`). */
export function tokenizeWindows(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (!quoted && (c === " " || c === "\t" || c === "\n" || c === "\r")) {
      if (inToken) out.push(cur);
      cur = "";
      inToken = false;
      continue;
    }
    inToken = true;
    if (c === "\\") {
      let n = 0;
      while (text[i] === "\\") {
        n++;
        i++;
      }
      if (text[i] === '"') {
        cur += "\\".repeat(Math.floor(n / 2));
        if (n % 2 === 1) cur += '"';
        else quoted = !quoted;
      } else {
        cur += "\\".repeat(n);
        i--;
      }
    } else if (c === '"') {
      if (quoted && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else {
      cur += c;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** Quotes one argument for a POSIX-quoted response file. */
export function quotePosix(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/(["\\])/g, "\\$1")}"`;
}

/** Reads a file for a response-file expansion (injectable for tests). */
export type ReadText = (path: string) => string;

const defaultRead: ReadText = (path) => Deno.readTextFileSync(path);

/** The quoting style the arguments ask for (`--rsp-quoting=`), default posix. */
function quotingOf(args: string[]): "posix" | "windows" {
  let style: "posix" | "windows" = "posix";
  for (let i = 0; i < args.length; i++) {
    const a = args[i].replace(/^--?/, "");
    let v: string | undefined;
    if (a.startsWith("rsp-quoting=")) v = a.slice("rsp-quoting=".length);
    else if (a === "rsp-quoting" && args[i] !== a) v = args[i + 1];
    if (v === "windows" || v === "posix") style = v;
    else if (v !== undefined) {
      throw new UsageError(
        `Invalid --rsp-quoting value "${v}": use posix or windows`,
        2,
      );
    }
  }
  return style;
}

/**
 * Expands `@file` arguments, recursively. Relative paths, nested ones included, are relative to
 * the working directory, as in LLD (which does not ask LLVM for include-relative names). Returns
 * the expanded words and whether any file was read.
 */
export function expandResponseFiles(
  args: string[],
  read: ReadText = defaultRead,
): { args: string[]; expanded: boolean } {
  const style = quotingOf(args);
  const tokenize = style === "windows" ? tokenizeWindows : tokenizePosix;
  let expanded = false;
  const walk = (words: string[], depth: number): string[] => {
    const out: string[] = [];
    for (const w of words) {
      if (!w.startsWith("@") || w.length === 1) {
        out.push(w);
        continue;
      }
      if (depth > 20) {
        throw new UsageError(`Response file "${w.slice(1)}" nests too deeply (a cycle?)`, 2);
      }
      const path = w.slice(1);
      let text: string;
      try {
        text = read(path);
      } catch {
        // LLVM keeps an argument whose file cannot be read as it is.
        out.push(w);
        continue;
      }
      expanded = true;
      out.push(...walk(tokenize(text), depth + 1));
    }
    return out;
  };
  return { args: walk(args, 0), expanded };
}

interface Match {
  spec: OptionSpec;
  prefix: string;
  own: boolean;
}

/** Finds the option whose prefix+name is the longest match for `arg` (OptTable semantics). */
function match(arg: string, specs: readonly OptionSpec[], own: boolean): Match[] {
  const out: Match[] = [];
  for (const spec of specs) {
    for (const prefix of spec.prefixes) {
      const spelled = prefix + spec.name;
      if (!arg.startsWith(spelled)) continue;
      // Flags and separate options must match exactly.
      if ((spec.kind === "flag" || spec.kind === "separate") && arg !== spelled) continue;
      out.push({ spec, prefix, own });
    }
  }
  return out;
}

function bestMatch(arg: string): Match | undefined {
  const all = [...match(arg, WASM_LD_OPTIONS, false), ...match(arg, LINKPASS_OPTIONS, true)];
  let best: Match | undefined;
  for (const m of all) {
    const len = m.prefix.length + m.spec.name.length;
    if (!best || len > best.prefix.length + best.spec.name.length) best = m;
  }
  return best;
}

/**
 * Parses wasm-ld arguments (after response-file expansion). `-flavor wasm` is accepted as the
 * lld multiplexer does; the caller decides what a different flavor means.
 *
 * @example Joined and separate forms give the same option
 * ```ts
 * import { parseLinkArgs, optionValues } from "./args.ts";
 * import assert from "node:assert";
 * const parsed = parseLinkArgs(["-o", "a.wasm", "--export=f", "--export", "g", "x.o"]);
 * assert.deepStrictEqual(optionValues(parsed, "export"), ["f", "g"]);
 * assert.deepStrictEqual(optionValues(parsed, "o"), ["a.wasm"]);
 * ```
 */
export function parseLinkArgs(argv: string[], read: ReadText = defaultRead): LinkArgs {
  const { args: words, expanded } = expandResponseFiles(argv, read);
  const args: ParsedArg[] = [];
  const warnings: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith("-") || w === "-") {
      args.push({ type: "input", path: w, raw: [w] });
      continue;
    }
    const m = bestMatch(w);
    if (!m) {
      warnings.push(`unknown wasm-ld option "${w}": passed on to the linker unchanged`);
      args.push({ type: "unknown", raw: [w] });
      continue;
    }
    const { spec, prefix, own } = m;
    const rest = w.slice(prefix.length + spec.name.length);
    const next = (): string => {
      if (i + 1 >= words.length) {
        throw new UsageError(`Option "${w}" needs a value: none follows it`, 2);
      }
      return words[++i];
    };
    let values: string[];
    const raw = [w];
    switch (spec.kind) {
      case "flag":
        values = [];
        break;
      case "joined":
        values = [rest];
        break;
      case "comma-joined":
        values = rest === "" ? [] : rest.split(",");
        break;
      case "separate":
        values = [next()];
        raw.push(words[i]);
        break;
      case "joined-or-separate":
        if (rest !== "") values = [rest];
        else {
          values = [next()];
          raw.push(words[i]);
        }
        break;
    }
    args.push({ type: "option", id: spec.id, kind: spec.kind, values, raw, own });
  }
  return { args, usedResponseFile: expanded, warnings };
}

/** Every value given to option `id`, in order. */
export function optionValues(parsed: LinkArgs, id: string): string[] {
  const out: string[] = [];
  for (const a of parsed.args) if (a.type === "option" && a.id === id) out.push(...a.values);
  return out;
}

/** True when option `id` appears. */
export function hasOption(parsed: LinkArgs, id: string): boolean {
  return parsed.args.some((a) => a.type === "option" && a.id === id);
}

/** The last value of option `id` (later options win, as in wasm-ld), or undefined. */
export function lastValue(parsed: LinkArgs, id: string): string | undefined {
  const all = optionValues(parsed, id);
  return all.length ? all[all.length - 1] : undefined;
}

/** What the command line says about the target: wasm32 unless `-m wasm64`. */
export function targetOf(parsed: LinkArgs): "wasm32" | "wasm64" {
  const m = lastValue(parsed, "m");
  if (m === undefined || m === "wasm32") return "wasm32";
  if (m === "wasm64") return "wasm64";
  throw new UsageError(
    `Unsupported emulation "-m ${m}": linkpass links WebAssembly (wasm32 or wasm64); use a native linker for other targets`,
    2,
  );
}
