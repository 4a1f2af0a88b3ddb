/**
 * `linkpass opt`: run passes over a module or object and write the result (with any files the
 * passes emit, such as JS glue) as one commit.
 * @module
 */
import { basename, resolve } from "node:path";
import { type Command, Option } from "../deps/commander.ts";
import { UsageError } from "../errors.ts";
import { checkOutputPath, type OutputFile, sameFile, writeOutputs } from "../fs.ts";
import { builtinPasses, orderPasses } from "../passes/mod.ts";
import { runPipeline } from "../pipeline.ts";
import { formatArchiveReport, isArchiveFile, runArchivePipeline } from "../archive_pipeline.ts";
import type { Pass } from "../passes/types.ts";
import { type LoadedPass, loadUserPass } from "../user_pass.ts";
import { readModuleFile } from "../wasm/file.ts";
import { collect, examples, printWarnings, readInput } from "./io.ts";
import { passesFromFlags, passOptions } from "./pass_flags.ts";
import { Progress } from "./progress.ts";
import { formatReport, reportWarnings } from "./report.ts";

/** The parsed `opt` options (pass flags included, by commander attribute name). */
export type OptOptions = Record<string, unknown>;

/**
 * The `--pass-option` values meant for the user pass `spec`: `spec:key=value`, or `key=value`
 * when there is only one user pass.
 */
export function userPassOptions(values: string[], spec: string, count: number): string[] {
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

/** Runs `opt` on `input` with parsed options: reads, runs the passes, writes, reports. */
export async function optCommand(input: string, o: OptOptions): Promise<void> {
  const output = o.inPlace ? input : (o.output as string | undefined);
  if (!output) throw new UsageError("opt needs -o <file> or --in-place", 2);
  if (!o.inPlace && (resolve(output) === resolve(input) || await sameFile(input, output))) {
    throw new UsageError(
      `Refusing to overwrite the input "${input}": pass --in-place to replace it, or another -o`,
      2,
    );
  }
  const force = Boolean(o.force);
  if (o.O !== undefined) {
    // `-O`, `-O2`, `-Oz` as wasm-opt spells them: that level first in the binaryen pass.
    const level = o.O === true ? "O" : `O${o.O}`;
    o.binaryen = [level, ...((o.binaryen as string[] | undefined) ?? [])];
  }
  const builtins = passesFromFlags(o, builtinPasses);
  const specs = (o.pass as string[] | undefined) ?? [];
  const passOptionValues = (o.passOption as string[] | undefined) ?? [];
  const user: LoadedPass[] = [];
  for (const spec of specs) {
    user.push(await loadUserPass(spec, userPassOptions(passOptionValues, spec, specs.length)));
  }
  const passes = orderPasses(builtins, user);
  await checkOutputPath(output, { force });
  if (await isArchiveFile(input)) return await optArchive(input, output, passes, o);

  const progress = new Progress();
  try {
    const t0 = performance.now();
    progress.phase("read");
    const module = await readInput(input, readModuleFile);
    const readMs = performance.now() - t0;
    const result = await runPipeline(module, passes, {
      file: input,
      output: basename(output),
      validateEach: Boolean(o.validateEach),
      validate: o.validate === false ? false : "auto",
      keepStaleDebug: Boolean(o.keepStaleDebug),
      onProgress: progress.phase,
      // The module's buffer was read for this run alone: the output may be joined into it.
      consumeInput: true,
    });
    progress.phase("write");
    const t1 = performance.now();
    // Validation already joined the module into one array: written as is, else by sections.
    const contents = result.report.validated ? result.bytes : result.module.chunks();
    const files: OutputFile[] = [{ path: output, contents }];
    for (const [name, contents] of result.files) {
      files.push({ path: resolve(output, "..", name), contents });
    }
    const written = await writeOutputs(files, { force });
    const { report } = result;
    report.phases = { read: readMs, ...report.phases, write: performance.now() - t1 };
    report.totalMs = performance.now() - t0;
    progress.done();
    printWarnings(reportWarnings(report));
    for (const dir of written.createdFolders) console.error(`note: created the folder "${dir}"`);
    console.log(formatReport(report, o.report as string));
  } finally {
    progress.done();
  }
}

/** `opt` on an `ar` archive (`.a`, `.rlib`): every Wasm object member through the passes. */
async function optArchive(input: string, output: string, passes: Pass[], o: OptOptions) {
  const bytes = await readInput(input, Deno.readFile);
  const result = await runArchivePipeline(bytes, passes, { file: input });
  await writeOutputs([{ path: output, contents: result.bytes }], { force: Boolean(o.force) });
  for (const m of result.members) printWarnings(m.report ? reportWarnings(m.report) : []);
  console.log(formatArchiveReport(result, o.report as string));
}

/** Adds `opt` to the program. */
export function registerOpt(program: Command): void {
  const cmd = program.command("opt")
    .description("run passes over a module or object and write the result")
    .argument("<input>", "input .wasm module, .o object or .a/.rlib archive")
    .option(
      "-o, --output <file>",
      "output file; missing folders are created, and all outputs of the run (module, glue) are written together or not at all",
    )
    .option("--in-place", "replace the input file (its mode is kept)")
    .option("--force", "replace a read-only output file")
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
    .addOption(
      new Option(
        "-O [level]",
        "binaryen's optimization level, as wasm-opt spells it: -O, -O1..-O4, -Os, -Oz (runs the binaryen pass)",
      ).choices(["0", "1", "2", "3", "4", "s", "z"]),
    )
    .option(
      "--keep-stale-debug",
      "keep .debug_* sections after a pass changed the code (their offsets are then stale)",
    );
  for (const option of passOptions(builtinPasses)) cmd.addOption(option);
  cmd.addHelpText(
    "after",
    examples(
      "linkpass opt app.wasm -o app.min.wasm --strip-custom-sections debug --strip-custom-sections producers",
      "linkpass opt app.wasm -o app.small.wasm --panic trap",
      "linkpass opt app.wasm -o dist/app.wasm --js-glue        # also writes dist/app.js and dist/app.d.ts",
    ),
  );
  cmd.action(async (input, o) => await optCommand(input, o as OptOptions));
}
