/**
 * The linkpass command line. This is the only file that reads `Deno.args`, prints, or exits.
 *
 * ```
 * deno run -A cli.ts opt app.wasm -o app.min.wasm --strip-custom-sections debug
 * deno run -A cli.ts inspect app.wasm
 * deno run -A cli.ts passes
 * ```
 * @module
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { basename, resolve } from "node:path";
import { sameFile, writeFileAtomic } from "./fs.ts";
import { readModuleFile } from "./wasm/file.ts";
import { formatInspect, inspectModule } from "./inspect.ts";
import { type PipelineReport, runPipeline } from "./pipeline.ts";
import { formatArchiveReport, isArchiveFile, runArchivePipeline } from "./archive_pipeline.ts";
import { builtinPasses, orderPasses } from "./passes/mod.ts";
import { flagsOf } from "./passes/define.ts";
import { panic } from "./passes/panic.ts";
import { stripCustomSections } from "./passes/strip_custom_sections.ts";
import type { Pass } from "./passes/types.ts";
import { passesFromFlags, passOptions } from "./cli/pass_flags.ts";
import { describeError, UsageError, WasmParseError } from "./errors.ts";
import { type LoadedPass, loadUserPass } from "./user_pass.ts";
import { assembleFragment, assembleModule } from "./asm/mod.ts";

const VERSION = "0.1.0";
const progress = (msg: string) => {
  if (Deno.stderr.isTerminal()) console.error(msg);
};

/** Reads an input file, turning file-system errors into one-line user errors. */
async function readInput<T>(path: string, read: (path: string) => Promise<T>): Promise<T> {
  try {
    return await read(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`Cannot read "${path}": no such file; check the path`);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`Cannot read "${path}": it is a directory; pass a .wasm file`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`Cannot read "${path}": permission denied; run with --allow-read`);
    }
    throw e;
  }
}

/** Re-labels a parse error with the file it came from. */
function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WasmParseError) e.file = file;
    throw e;
  }
}

function formatReport(report: PipelineReport, format: string): string {
  if (format === "json") return JSON.stringify(report, null, 2);
  const lines = [
    `input ${report.inputBytes.toLocaleString("en-US")} bytes → output ${
      report.outputBytes.toLocaleString("en-US")
    } bytes (${
      (100 * (1 - report.outputBytes / Math.max(1, report.inputBytes))).toFixed(1)
    }% smaller)`,
  ];
  for (const run of report.passes) {
    lines.push(`${run.name}: ${run.ms.toFixed(1)} ms`);
    for (const [k, v] of Object.entries(run.report)) lines.push(`  ${k}: ${formatValue(v)}`);
  }
  lines.push(
    report.validated ? "output validated" : "validation skipped: no standard section changed",
  );
  return lines.join("\n");
}

/** One report value on one readable line; long lists are summarized (`--report json` has all). */
function formatValue(v: unknown): string {
  if (typeof v !== "object" || v === null) return String(v);
  const json = JSON.stringify(v);
  if (json.length <= 100) return json;
  if (Array.isArray(v)) {
    const names = v.map((x) => (x as { name?: unknown })?.name).filter((n) =>
      typeof n === "string"
    );
    const shown = names.slice(0, 4).join(", ");
    return `${v.length} item(s)${shown ? `: ${shown}${names.length > 4 ? ", ..." : ""}` : ""}`;
  }
  return Object.entries(v).map(([k, x]) => `${k}=${typeof x === "object" ? "{...}" : x}`).join(" ");
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `opt` on an `ar` archive: every Wasm object member through the (section-level) passes. */
async function optArchive(
  input: string,
  output: string,
  passes: Pass[],
  o: Record<string, unknown>,
) {
  const result = await runArchivePipeline(await Deno.readFile(input), passes, { file: input });
  await writeFileAtomic(output, [result.bytes]);
  console.log(formatArchiveReport(result, o.report as string));
}

async function opt(input: string, o: Record<string, unknown>): Promise<void> {
  const output = o.inPlace ? input : (o.output as string | undefined);
  if (!output) throw new UsageError("opt needs -o <file> or --in-place", 2);
  if (!o.inPlace && (resolve(output) === resolve(input) || await sameFile(input, output))) {
    throw new UsageError(
      `Refusing to overwrite the input "${input}": pass --in-place to replace it, or another -o`,
      2,
    );
  }
  const builtins = passesFromFlags(o, builtinPasses);
  const specs = (o.pass as string[] | undefined) ?? [];
  const passOptions = (o.passOption as string[] | undefined) ?? [];
  const user: LoadedPass[] = [];
  for (const spec of specs) {
    user.push(await loadUserPass(spec, userPassOptions(passOptions, spec, specs.length)));
  }
  const passes = orderPasses(builtins, user);
  if (await isArchiveFile(input)) return await optArchive(input, output, passes, o);
  const module = await readInput(input, readModuleFile);
  progress(`running ${passes.length} pass(es) on ${input}`);
  const result = await runPipeline(module, passes, {
    file: input,
    output: basename(output),
    validateEach: Boolean(o.validateEach),
    validate: o.validate === false ? false : "auto",
    keepStaleDebug: Boolean(o.keepStaleDebug),
  });
  await writeFileAtomic(output, result.module.chunks());
  for (const [name, contents] of result.files) {
    await writeFileAtomic(resolve(output, "..", name), contents);
  }
  console.log(formatReport(result.report, o.report as string));
}

/**
 * The `--pass-option` values meant for the user pass `spec`: `spec:key=value`, or `key=value`
 * when there is only one user pass.
 */
function userPassOptions(values: string[], spec: string, count: number): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v.startsWith(`${spec}:`)) out.push(v.slice(spec.length + 1));
    else if (count === 1 && /^[A-Za-z_$][\w$-]*=/.test(v)) out.push(v);
    else if (count === 0) throw new UsageError(`--pass-option "${v}" needs a --pass`, 2);
    else if (count > 1 && !/^[^=]*:/.test(v)) {
      throw new UsageError(
        `--pass-option "${v}": with several --pass, write <module>:key=value to say which`,
        2,
      );
    }
  }
  return out;
}

/** Each pass as `passes --json` prints it: derived from its definition. */
function describePasses() {
  return builtinPasses.map(({ definition: d }) => ({
    name: d.name,
    description: d.description,
    level: d.level,
    main: d.main,
    options: Object.fromEntries(
      Object.entries(d.options).map(([key, spec]) => [key, {
        kind: spec.kind,
        help: spec.help,
        default: spec.default,
        choices: spec.choices,
      }]),
    ),
    flags: flagsOf(d).map((f) => f.syntax),
  }));
}

/** The text `passes` prints. */
function formatPasses(): string {
  const lines: string[] = [];
  for (const { definition: d } of builtinPasses) {
    lines.push(`${d.name} (${d.level}): ${d.description}`);
    for (const f of flagsOf(d)) lines.push(`  ${f.syntax.padEnd(36)} ${f.help}`);
  }
  return lines.join("\n");
}

/**
 * The demo's passes: panics become traps (core::fmt and the rest of Rust's panic machinery go
 * away), then DWARF and producers are dropped; the name section stays.
 */
function demoPipeline(): Pass[] {
  return [
    panic({ mode: "trap" }),
    stripCustomSections({ remove: ["debug", "producers"], keep: ["name"] }),
  ];
}

/** Exit code a command asks for without failing (`run` returns the module's). */
let exitCode = 0;

/** Builds the command tree. Exported for tests that want the help text. */
export function buildProgram(): Command {
  const program = new Command()
    .name("linkpass")
    .description("Composable WebAssembly link passes")
    .version(VERSION)
    .configureHelp({ helpWidth: 100 })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  const optCmd = program.command("opt")
    .description("run passes over a module or object and write the result")
    .argument("<input>", "input .wasm module or .o object")
    .option("-o, --output <file>", "output file (written atomically)")
    .option("--in-place", "replace the input file")
    .addOption(
      new Option("--report <format>", "report format").choices(["table", "json"]).default("table"),
    )
    .option("--validate-each", "validate after every pass and name the pass that broke the module")
    .option("--no-validate", "skip validating the output")
    .option(
      "--pass <module>",
      "a user pass: a .ts/.js module (path or URL) whose default export is a definePass() " +
        "factory, a factory function or a pass (repeatable)",
      collect,
    )
    .option(
      "--pass-option <[pass:]key=value>",
      "an option for a user pass; with several --pass, prefix the pass's module path (repeatable)",
      collect,
    )
    .option(
      "--keep-stale-debug",
      "keep .debug_* sections after a pass changed the code (their offsets are then stale)",
    );
  for (const option of passOptions(builtinPasses)) optCmd.addOption(option);
  optCmd.action(async (input, o) => await opt(input, o as Record<string, unknown>));

  program.command("inspect")
    .description("show sections with sizes, custom sections, imports/exports and names")
    .argument("<input>", "input .wasm module or .o object")
    .option("--json", "print JSON")
    .action(async (input, o) => {
      const module = await readInput(input, readModuleFile);
      const report = withFile(input, () => inspectModule(module, input));
      console.log(o.json ? JSON.stringify(report, null, 2) : formatInspect(report));
    });

  program.command("passes")
    .description("list every pass with its description and options")
    .option(
      "--json",
      "print JSON: each pass's name, level, options (kind, default, choices) and flags",
    )
    .action((o) =>
      console.log(o.json ? JSON.stringify(describePasses(), null, 2) : formatPasses())
    );

  program.command("asm")
    .description("assemble rwat WAT ((@sym), (@reloc)) into a relocatable object")
    .argument(
      "<input>",
      "a (module (@rwat) ...) text, or with --fragment one js_bindgen.wat record",
    )
    .requiredOption("-o, --output <file>", "output object file (written atomically)")
    .addOption(
      new Option("--target <arch>", "wasm64 adds the i64 env.__linear_memory import")
        .choices(["wasm32", "wasm64"] as const).default("wasm32" as const),
    )
    .option("--fragment", "the input holds module fields without (module ...), like a record")
    .action(async (input, o) => {
      const text = await readInput(input, Deno.readTextFile);
      const options = { file: input, target: o.target };
      const object = o.fragment
        ? await assembleFragment(text, options)
        : await assembleModule(text, options);
      await writeFileAtomic(o.output, object);
    });

  program.command("link")
    .description("link like wasm-ld, assembling embedded WAT and adding JS glue")
    .argument("[wasm-ld-args...]", "wasm-ld arguments, @response files and --linker PATH")
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(async (args) => {
      const { link } = await import("./linker/link.ts");
      await link({
        args,
        onWarning: (line) => console.error(line),
        onStdout: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
      });
    });

  program.command("check")
    .description("check the embedded WAT and JS of objects/archives, without linking")
    .argument("<inputs...>", ".o, .rlib or .a files")
    .addOption(
      new Option("--target <arch>", "target of the fragments (default: detected from the objects)")
        .choices(["wasm32", "wasm64"] as const),
    )
    .option("--json", "print JSON")
    .action(async (inputs, o) => {
      const { checkInputs } = await import("./linker/check.ts");
      const report = await checkInputs(inputs, { target: o.target });
      if (o.json) console.log(JSON.stringify(report, null, 2));
      else {
        for (const p of report.problems) {
          console.error(`error: ${p.message}`);
          if (p.frame) console.error(p.frame);
        }
        console.log(
          `checked ${report.inputs} input(s): ${report.fragments} WAT fragment(s), ${report.snippets} JS snippet(s), ${report.problems.length} problem(s)`,
        );
      }
      if (report.problems.length) {
        throw new UsageError(`${report.problems.length} problem(s) in the embedded WAT/JS`, 1);
      }
    });

  program.command("run")
    .description(
      "run a linked module in Deno with glue generated in memory: main/_start, or its js_bindgen.test tests like libtest",
    )
    .argument("<input>", "the linked .wasm module")
    .argument(
      "[args...]",
      "program arguments, or libtest arguments (filters, --exact, --ignored, ...)",
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (input, args) => {
      const { runModule } = await import("./runner/run.ts");
      const bytes = await readInput(input, Deno.readFile);
      const encoder = new TextEncoder();
      exitCode = await runModule(bytes, {
        file: input,
        args,
        onOutput: (stream, text) =>
          (stream === "stdout" ? Deno.stdout : Deno.stderr).writeSync(encoder.encode(text)),
      });
    });

  program.command("demo")
    .description("run the main job on the bundled example module and print a report")
    .action(async () => {
      const input = new URL("./examples/demo/app.wasm", import.meta.url);
      const bytes = await Deno.readFile(input);
      const result = await runPipeline(bytes, demoPipeline(), { file: "examples/demo/app.wasm" });
      console.log(formatInspect(inspectModule(bytes, "examples/demo/app.wasm (before)")));
      console.log();
      console.log(formatInspect(inspectModule(result.bytes, "after")));
      console.log();
      console.log(formatReport(result.report, "table"));
    });
  return program;
}

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  exitCode = 0;
  try {
    // opt's `-O2`, `-Oz`, ... as wasm-opt spells them: the binaryen pass at that level
    if (args[0] === "opt") {
      args = args.map((a) => /^-O[0-4sz]?$/.test(a) ? `--binaryen=${a.slice(1) || "O"}` : a);
    }
    await program.parseAsync(args, { from: "user" });
    return exitCode;
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
    if (Deno.env.get("LINKPASS_DEBUG") && e instanceof Error && e.cause instanceof Error) {
      console.error(e.cause.stack);
    }
    return described.exitCode;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
