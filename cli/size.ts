/**
 * The size commands: `inspect --top/--retained/--garbage/--html`, `why`, `diff`, and
 * `opt --size-diff`. Registered on the program by {@linkcode registerSizeCommands}.
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { UsageError, WasmParseError } from "../errors.ts";
import { readModuleFile } from "../wasm/file.ts";
import type { WasmModule } from "../wasm/module.ts";
import { readNames } from "../wasm/custom.ts";
import { inspectCommand } from "./inspect.ts";
import { readInput } from "./io.ts";
import type { SizeAnalysis } from "../size/analyze.ts";
import type { Demangle } from "../size/names.ts";

/**
 * The size analysis, loaded when a size view runs: registering these options must not make
 * every command (`opt`, `--version`, ...) load it.
 */
const sizeModule = () => import("../size/mod.ts");

/** Reads a module; file-system errors are one line naming the file (cli/io.ts). */
async function readWasm(path: string): Promise<WasmModule> {
  try {
    return await readInput(path, readModuleFile);
  } catch (e) {
    if (e instanceof WasmParseError) e.file ??= path;
    throw e;
  }
}

/** Loads the Rust demangler only when the module's names need it. */
async function demanglerFor(m: WasmModule): Promise<Demangle | undefined> {
  const { isMangled } = await sizeModule();
  const names = readNames(m);
  if (!names) return undefined;
  let mangled = false;
  for (const n of names.functions.values()) {
    if (isMangled(n)) {
      mangled = true;
      break;
    }
  }
  if (!mangled) return undefined;
  const { loadDemangler } = await import("../passes/_demangle.ts");
  return await loadDemangler();
}

async function analyzeFile(path: string): Promise<SizeAnalysis> {
  const m = await readWasm(path);
  const demangle = await demanglerFor(m);
  const { analyzeSize } = await sizeModule();
  try {
    return analyzeSize(m, { file: path, demangle });
  } catch (e) {
    if (e instanceof WasmParseError) e.file ??= path;
    throw e;
  }
}

/** Parses a positive count option. */
function count(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`${flag} needs a positive whole number, got "${value}"`, 2);
    }
    return n;
  };
}

const print = (text: string) => console.log(text);

/**
 * Adds the size views to the program: options on `inspect` and `opt`, and the `why` and `diff`
 * commands.
 */
export function registerSizeCommands(program: Command): void {
  const inspect = program.commands.find((c) => c.name() === "inspect");
  if (!inspect) throw new Error("registerSizeCommands: no inspect command to extend");
  inspect
    .option(
      "--top [n]",
      "the n largest items (default 20): functions, data, sections, ...",
      count("--top"),
    )
    .option(
      "--retained [n]",
      "the n largest retainers: bytes that would go with each item (default 20)",
      count("--retained"),
    )
    .option("--garbage", "list the items no root reaches (what dead-code elimination removes)")
    .option("--kind <kinds>", "only these item kinds, comma-separated (function,data,custom,...)")
    .option("--html <file>", "write an interactive treemap of the module (one self-contained file)")
    .action(async (...args: unknown[]) => {
      const input = args[0] as string;
      const o = args[1] as Record<string, unknown>;
      const sizeView = o.top !== undefined || o.retained !== undefined || o.garbage || o.html;
      if (!sizeView) return await inspectCommand(input, o as { json?: boolean });
      const a = await analyzeFile(input);
      const { formatGarbage, formatTop, garbageItems, topItems } = await sizeModule();
      const kinds = typeof o.kind === "string"
        ? o.kind.split(",").map((k) => k.trim()) as never[]
        : undefined;
      const out: Record<string, unknown> = { file: input, bytes: a.totalBytes };
      const text: string[] = [];
      for (const by of ["bytes", "retained"] as const) {
        const flag = by === "bytes" ? o.top : o.retained;
        if (flag === undefined) continue;
        const limit = flag === true ? 20 : flag as number;
        const items = topItems(a, { limit, by, kinds });
        out[by === "bytes" ? "top" : "retained"] = items;
        text.push(formatTop(input, a.totalBytes, items, by));
      }
      if (o.garbage) {
        const items = garbageItems(a);
        out.garbage = items;
        text.push(formatGarbage(input, a.totalBytes, items, 50));
      }
      if (typeof o.html === "string") {
        const { writeFileAtomic } = await import("../fs.ts");
        const { sizeReportHtml } = await import("../size/html.ts");
        await writeFileAtomic(o.html, [new TextEncoder().encode(sizeReportHtml(a))]);
        out.html = o.html;
        if (!o.json) console.error(`wrote ${o.html}`);
      }
      if (o.json) print(JSON.stringify(out, null, 2));
      else if (text.length) print(text.join("\n\n"));
    });

  program.command("why")
    .description(
      "why is an item kept: the shortest paths from the roots (exports, start, tables) to it",
    )
    .argument("<input>", "the .wasm module or .o object")
    .argument(
      "[item]",
      "a function (or other item) name as displayed or as the module spells it, or /regex/",
    )
    .option(
      "--paths <n>",
      "paths per item, each through a different caller (default 3)",
      count("--paths"),
    )
    .option(
      "--limit <n>",
      "items to show at most (default 10; 50 with --garbage)",
      count("--limit"),
    )
    .option("--garbage", "list the items no root reaches instead")
    .option("--json", "print JSON")
    .action(async (input, item, o) => {
      if (!o.garbage && item === undefined) {
        throw new UsageError("why needs an item name or /regex/ (or --garbage)", 2);
      }
      const a = await analyzeFile(input);
      const { formatGarbage, formatWhy, garbageItems, whyKept } = await sizeModule();
      if (o.garbage) {
        const items = garbageItems(a);
        print(
          o.json
            ? JSON.stringify({ file: input, garbage: items }, null, 2)
            : formatGarbage(input, a.totalBytes, items, o.limit ?? 50),
        );
        return;
      }
      const report = whyKept(a, item!, { paths: o.paths, limit: o.limit });
      // No match: the error says it once (JSON still gets its document, with no matches).
      if (report.matches.length > 0 || o.json) {
        print(o.json ? JSON.stringify(report, null, 2) : formatWhy(report));
      }
      if (report.matches.length === 0) {
        throw new UsageError(
          `No item matches "${item}"; try a /regex/ or \`linkpass inspect --top\` for the names`,
          1,
        );
      }
    });

  program.command("diff")
    .description("size changes between two builds: per section and per item, sorted by delta")
    .argument("<before>", "the module before")
    .argument("<after>", "the module after")
    .option("--limit <n>", "items to list (default 20)", count("--limit"))
    .option("--kind <kinds>", "list only these item kinds, comma-separated (function,data,...)")
    .option("--json", "print JSON (every changed item)")
    .option("--html <file>", "write an interactive treemap of removed/added/grown items")
    .action(async (before, after, o) => {
      const [a, b] = [await analyzeFile(before), await analyzeFile(after)];
      const { diffSizes, formatDiff } = await sizeModule();
      const d = diffSizes(a, b);
      if (o.kind) {
        const kinds = new Set(o.kind.split(",").map((k) => k.trim()));
        d.items = d.items.filter((r) =>
          kinds.has(r.kind) || (r.kind === "import" && kinds.has("function"))
        );
      }
      if (typeof o.html === "string") {
        const { writeFileAtomic } = await import("../fs.ts");
        const { diffReportHtml } = await import("../size/html.ts");
        await writeFileAtomic(o.html, [new TextEncoder().encode(diffReportHtml(a, b))]);
        if (!o.json) console.error(`wrote ${o.html}`);
      }
      print(o.json ? JSON.stringify(d, null, 2) : formatDiff(d, o.limit ?? 20));
    });

  // `opt --size-diff [n]`: the top of `diff` after the report.
  const opt = program.commands.find((c) => c.name() === "opt");
  if (!opt) return;
  let inputBytes: Uint8Array | undefined;
  opt.option(
    "--size-diff [n]",
    "after the report, print the n largest size changes (default 10)",
    count("--size-diff"),
  )
    .hook("preAction", async (cmd) => {
      const o = cmd.opts() as Record<string, unknown>;
      if (o.sizeDiff === undefined) return;
      if (o.report === "json") {
        throw new UsageError(
          "--size-diff prints a table; with --report json run `linkpass diff --json` instead",
          2,
        );
      }
      // Read now: with --in-place the input is gone afterwards.
      inputBytes = await Deno.readFile(cmd.args[0]);
    })
    .hook("postAction", async (cmd) => {
      const o = cmd.opts() as Record<string, unknown>;
      if (!inputBytes) return;
      const input = cmd.args[0];
      const output = o.inPlace ? input : o.output as string;
      const after = await readWasm(output);
      const { analyzeSize, diffSizes, formatDiff } = await sizeModule();
      const before = analyzeSize(inputBytes, { file: input, demangle: await demanglerFor(after) });
      const d = diffSizes(
        before,
        analyzeSize(after, { file: output, demangle: await demanglerFor(after) }),
      );
      print("");
      print(formatDiff(d, o.sizeDiff === true ? 10 : o.sizeDiff as number));
      inputBytes = undefined;
    });
}
