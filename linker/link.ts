/**
 * Linker mode: what `linkpass link <wasm-ld arguments>` (and the `linkpass-ld` shim that cargo
 * and rustc call) does. Parse the arguments, stop early on the guards, scan every input once for
 * embedded WAT and format records, assemble the WAT into objects (cached next to the output),
 * run rust-lld/wasm-ld with the forwarded arguments plus those objects, then post-process the
 * linked module: JS glue, strip `js_bindgen.*`/`linkpass.*`, and the configured passes.
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type OutputFile, writeFileAtomic, writeOutputs } from "../fs.ts";
import { FragmentErrors, LinkerFailedError } from "../errors.ts";
import { type PipelineReport, runPipeline } from "../pipeline.ts";
import { lastValue, optionValues, parseLinkArgs, quotePosix, targetOf } from "./args.ts";
import { type InputScan, LinkCache, sha256 } from "./cache.ts";
import { type LinkConfig, loadConfig } from "./config.ts";
import { findLinker } from "./find_linker.ts";
import { checkFlavor, checkFormatVersions, MARKER_LIBRARIES } from "./guards.ts";
import { scanInput } from "./scan.ts";
import { cargoUpliftDir, memoryImport, postLinkPasses } from "./post_link.ts";
import { renameMemoryImport } from "./memory_import.ts";
import { WasmModule } from "../wasm/module.ts";

/** Options of {@linkcode link}. */
export interface LinkOptions {
  /** The wasm-ld arguments as the compiler passed them (`-flavor wasm` and `@file` included). */
  args: string[];
  /** Working directory the arguments are relative to (default: the process's). */
  cwd?: string;
  /** Environment lookup (default: Deno.env). */
  env?: (name: string) => string | undefined;
  /** Configuration to use instead of loading it (tests). */
  config?: LinkConfig;
  /** Called with each warning line (unknown options, linker warnings). */
  onWarning?: (line: string) => void;
  /** Called with what the linker printed on stdout (`--version`, `--print-map`). */
  onStdout?: (text: string) => void;
}

/** What a link did. */
export interface LinkResult {
  /** The output module. */
  output: string;
  /** Other files written next to it (the JS glue). */
  files: string[];
  /** The linker run, and how it was found. */
  linker: { path: string; source: string };
  /** The full argument list the linker got. */
  linkerArgs: string[];
  /** Objects generated from WAT fragments: how many, and how many were assembled now. */
  objects: { total: number; assembled: number };
  /** Archives replaced by cleaned copies (non-object members dropped). */
  cleanedArchives: string[];
  /** Post-link pipeline report (absent for relocatable links). */
  pipeline?: PipelineReport;
  /** Milliseconds spent in each phase. */
  timings: Record<string, number>;
}

/** Finds `-l name` the way wasm-ld does: `lib<name>.a` (or `:<file>`) in the `-L` paths. */
function findLibrary(name: string, paths: string[], cwd: string): string | undefined {
  const file = name.startsWith(":") ? name.slice(1) : `lib${name}.a`;
  for (const dir of paths) {
    const p = resolve(cwd, dir, file);
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Links: see the module documentation. Throws UsageError for guard failures and bad input,
 * {@linkcode FragmentErrors} when embedded WAT does not assemble, {@linkcode LinkerFailedError}
 * when the linker fails. Writes the output (and glue) atomically.
 *
 * @example Link the objects rustc produced, as cargo's linker would
 * ```ts ignore
 * import { link } from "../mod.ts";
 * const result = await link({
 *   args: ["-flavor", "wasm", "--no-entry", "--export=run", "app.o", "-o", "app.wasm"],
 *   onWarning: (line) => console.error(line),
 * });
 * console.log(result.output, result.files, result.timings);
 * ```
 */
export async function link(options: LinkOptions): Promise<LinkResult> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (phase: string, since: number) => (timings[phase] = performance.now() - since);
  const cwd = options.cwd ?? Deno.cwd();
  const env = options.env ?? ((n: string) => Deno.env.get(n));
  const warn = options.onWarning ?? (() => {});
  const parsed = parseLinkArgs(options.args, (p) => Deno.readTextFileSync(resolve(cwd, p)));
  checkFlavor(parsed);
  const explicitTarget = lastValue(parsed, "m") === undefined ? undefined : targetOf(parsed);
  for (const w of parsed.warnings) warn(w);

  const outputArg = lastValue(parsed, "o") ?? "a.out";
  const output = resolve(cwd, outputArg);
  const relocatable = parsed.args.some((a) => a.type === "option" && a.id === "relocatable");
  const config = options.config ?? await loadConfig(cwd, env);
  const cache = await LinkCache.open(output, join(dirname(output), ".linkpass"));
  mark("setup", t0);

  // Scan inputs: files and -l libraries (markers dropped).
  const t1 = performance.now();
  const searchPaths = optionValues(parsed, "library-path");
  const replaced = new Map<number, string[]>(); // arg index → replacement words
  const fragments: { text: string; file: string; member?: string; record: number }[] = [];
  const versions: { crate: string; version: number; from: string }[] = [];
  const cleanedArchives: string[] = [];
  let memory64 = false;
  for (const [index, arg] of parsed.args.entries()) {
    let path: string | undefined;
    if (arg.type === "input") path = arg.path;
    else if (arg.type === "option" && arg.id === "library") {
      if (MARKER_LIBRARIES.includes(arg.values[0])) {
        replaced.set(index, []);
        continue;
      }
      path = findLibrary(arg.values[0], searchPaths, cwd);
    }
    if (path === undefined) continue;
    const abs = resolve(cwd, path);
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(abs);
    } catch {
      continue; // the linker reports missing inputs in its own words
    }
    const key = LinkCache.inputKey(abs, stat);
    let scan: InputScan | undefined = cache.scanOf(key);
    let cleanedPath: string | undefined;
    if (scan?.cleaned) {
      cleanedPath = await cache.lookupArchive(scan.cleaned, scan.cleanedSize ?? -1);
      if (!cleanedPath) scan = undefined; // rebuild a missing or corrupt copy
    }
    if (!scan) {
      const bytes = await Deno.readFile(abs);
      const result = scanInput(path, bytes);
      scan = result.scan;
      if (result.cleaned) {
        const entry = await cache.store(
          "archives",
          (await sha256(key)).slice(0, 24),
          "a",
          result.cleaned,
        );
        scan.cleaned = entry.name;
        scan.cleanedSize = result.cleaned.length;
        cleanedPath = entry.path;
      }
    }
    cache.recordScan(key, scan);
    for (const f of scan.fragments) fragments.push({ ...f, file: path });
    if (scan.memory64) memory64 = true;
    for (const v of scan.versions) {
      versions.push({
        crate: v.crate,
        version: v.version,
        from: v.member ? `${path}(${v.member})` : path,
      });
    }
    if (cleanedPath) {
      cleanedArchives.push(path);
      replaced.set(index, [cleanedPath]);
    }
  }
  checkFormatVersions(versions);
  const target = explicitTarget ?? (memory64 ? "wasm64" : "wasm32");
  const linker = await findLinker({
    explicit: lastValue(parsed, "linkpass-linker"),
    configured: config.linker,
    env,
    memoFile: join(cache.dir, "linker.json"),
  });
  mark("scan", t1);

  // Assemble fragments (deduplicated by content), reusing cached objects.
  const t2 = performance.now();
  const objects: string[] = [];
  let assembled = 0;
  if (fragments.length) {
    const asm = await import("../asm/mod.ts");
    const seen = new Set<string>();
    const errors: { message: string; frame: string }[] = [];
    for (const f of fragments) {
      const key = (await sha256(`${asm.ASSEMBLER_VERSION}\0${target}\0${f.text}`)).slice(0, 32);
      if (seen.has(key)) continue;
      seen.add(key);
      let path = await cache.lookup("objects", key);
      if (!path) {
        let bytes: Uint8Array;
        try {
          bytes = await asm.assembleFragment(f.text, {
            target,
            file: f.file,
            member: f.member,
            record: f.record,
          });
        } catch (e) {
          if (!(e instanceof asm.AsmError)) throw e;
          errors.push({ message: e.message, frame: e.frame });
          continue;
        }
        path = (await cache.store("objects", key, "o", bytes)).path;
        assembled++;
      }
      objects.push(path);
    }
    if (errors.length) throw new FragmentErrors(errors);
  }
  mark("assemble", t2);

  // The linker's command line.
  const memory = memoryImport(parsed, linker.lldMajor);
  const passes = postLinkPasses(config, memory, output); // bad configuration fails before linking
  const words: string[] = [];
  parsed.args.forEach((arg, i) => {
    if (arg.type === "option" && (arg.own || arg.id === "flavor")) return;
    words.push(...(replaced.get(i) ?? arg.raw));
  });
  words.push(...objects);
  if (!explicitTarget && target === "wasm64") words.push("-mwasm64"); // detected from the inputs
  if (memory.add && !relocatable) words.push(memory.add);
  let linkerArgs = ["-flavor", "wasm", ...words];
  if (parsed.usedResponseFile) {
    const rsp = join(cache.dir, `${outputArg.replace(/[^A-Za-z0-9._-]/g, "_")}.rsp`);
    await writeFileAtomic(rsp, words.map(quotePosix).join("\n"));
    linkerArgs = ["-flavor", "wasm", "--rsp-quoting=posix", `@${rsp}`];
  }

  await cache.writeManifest();
  const t3 = performance.now();
  const run = await new Deno.Command(linker.path, {
    args: linkerArgs,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  mark("linker", t3);
  const stderr = new TextDecoder().decode(run.stderr);
  if (run.stdout.length) options.onStdout?.(new TextDecoder().decode(run.stdout));
  if (!run.success) {
    const called = optionValues(parsed, "flavor").length === 0 &&
      /entry symbol not defined/.test(stderr);
    throw new LinkerFailedError(
      linker.path,
      run.code,
      called
        ? `${stderr}hint: no "-flavor wasm" and no --no-entry: rustc probably took this linker for a GNU ld (its name ends in "-ld"); add "-C linker-flavor=wasm-ld" or name the shim "...-wasm-ld"\n`
        : stderr,
    );
  }
  for (const line of stderr.split("\n")) if (line.trim()) warn(line);

  const result: LinkResult = {
    output,
    files: [],
    linker,
    linkerArgs,
    objects: { total: objects.length, assembled },
    cleanedArchives,
    timings,
  };
  // --help and --version print and stop; -v prints and links when there are inputs.
  const hasInputs = parsed.args.some((a) => a.type === "input");
  const informational = parsed.args.some((a) =>
    a.type === "option" && (a.id === "help" || a.id === "version" || (a.id === "v" && !hasInputs))
  );
  if (!relocatable && !informational) {
    const t4 = performance.now();
    const bytes = await Deno.readFile(output);
    let linked: Uint8Array = bytes;
    if (memory.rename && memory.add) {
      const module = WasmModule.parse(bytes, { file: outputArg });
      if (renameMemoryImport(module, { module: "env", name: "memory" }, memory)) {
        linked = module.toBytes();
      }
    }
    let pipeline;
    try {
      pipeline = await runPipeline(linked, passes, { file: outputArg });
    } catch (e) {
      // The linker's output was not post-processed: leave no half-made output behind.
      await Deno.remove(output).catch(() => {});
      throw e;
    }
    const { bytes: out, files, report } = pipeline;
    // The module, its glue and cargo's uplifted glue are committed together (fs.ts).
    const outputs: OutputFile[] = out === bytes ? [] : [{ path: output, contents: out }];
    const uplift = cargoUpliftDir(output, parsed, env);
    for (const [name, contents] of files) {
      const path = isAbsolute(name) ? name : join(dirname(output), name);
      outputs.push({ path, contents });
      if (uplift && !isAbsolute(name)) outputs.push({ path: join(uplift, name), contents });
    }
    try {
      await writeOutputs(outputs, { createFolders: false });
    } catch (e) {
      await Deno.remove(output).catch(() => {}); // the linker's unprocessed output goes too
      throw e;
    }
    result.files.push(...outputs.map((o) => o.path).filter((p) => p !== output));
    result.pipeline = report;
    for (const run of report.passes) {
      for (const w of (run.report.warnings as string[] | undefined) ?? []) {
        warn(`${run.name}: ${w}`);
      }
    }
    mark("post-link", t4);
  }
  const t5 = performance.now();
  await cache.finish();
  mark("cache", t5);
  timings.total = performance.now() - t0;
  return result;
}
