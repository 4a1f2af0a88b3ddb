/**
 * Linker mode: what `linkpass link <wasm-ld arguments>` (and the `linkpass-ld` shim that cargo
 * and rustc call) does, as a drop-in for js-bindgen's linker. Each phase is one function:
 * {@linkcode setUp} (arguments, guards, configuration, cache), {@linkcode scanInputs} (every
 * object and archive member, once: WAT fragments, JS records, format versions, archives to clean),
 * {@linkcode assembleFragments}, {@linkcode linkerCommand}, {@linkcode runLinker} (into a private
 * temporary file), {@linkcode postLink} (configured passes, then js-bindgen's sections and the
 * glue) and {@linkcode commitOutputs} (module and glue renamed into place together).
 * @module
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { type OutputFile, writeOutputs } from "../fs.ts";
import { FragmentErrors, LinkerFailedError } from "../errors.ts";
import type { JsRecord } from "../glue/records.ts";
import { renderGlue } from "../glue/generate.ts";
import { type PipelineReport, runPipeline } from "../pipeline.ts";
import type { Pass } from "../passes/types.ts";
import { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";
import {
  hasOption,
  lastValue,
  type LinkArgs,
  optionValues,
  parseLinkArgs,
  quotePosix,
  targetOf,
} from "./args.ts";
import { type InputScan, LinkCache, sha256 } from "./cache.ts";
import { type LinkConfig, loadConfig } from "./config.ts";
import { findLinker, type LinkerChoice } from "./find_linker.ts";
import { finishModule, isLibtestInput } from "./finish.ts";
import { checkFlavor, checkFormatVersions, MARKER_LIBRARIES } from "./guards.ts";
import { renameMemoryImport } from "./memory_import.ts";
import { cargoUpliftDir, memoryImport, postLinkPasses } from "./post_link.ts";
import { scanInput } from "./scan.ts";
import { type InputPasses, inputPasses, prepareInput } from "./input_passes.ts";
import { panic } from "../passes/panic.ts";
import { passesFromConfig } from "../passes/mod.ts";

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
  /**
   * What the input passes did (absent when none are configured): the passes, inputs whose copies
   * were made now or taken from the cache, panic roots and calls rewritten, the linked module's
   * data section bytes, and with `measureInputPasses` the same link without them.
   */
  inputPasses?: InputPassesResult;
  /** Post-link pipeline report (absent for relocatable links). */
  pipeline?: PipelineReport;
  /** The JS that went into `js_bindgen.js_output` (absent for relocatable links). */
  js?: { imports: string[]; embeds: string[]; missing: string[]; dropped: string[] };
  /** Milliseconds spent in each phase. */
  timings: Record<string, number>;
}

/** The `inputPasses` part of a {@linkcode LinkResult}. */
export interface InputPassesResult {
  /** The passes by name, as configured. */
  config: Record<string, unknown>;
  /** Input files that got a copy (paths as given), made now or found in the cache. */
  prepared: string[];
  /** Of those, copies made in this link (the others were reused). */
  made: string[];
  /** Wasm objects (files and archive members) the passes saw. */
  objects: number;
  /** How many of them the passes changed. */
  changed: number;
  /** Panic roots whose bodies became `unreachable` (over all objects). */
  roots: number;
  /** Calls to those roots that were rewritten. */
  callSites: number;
  /** Data section payload bytes of the linked module. */
  dataBytes: number;
  /** Code section payload bytes of the linked module. */
  codeBytes: number;
  /** `measureInputPasses`: the same link without the input passes. */
  measured?: {
    dataBytes: number;
    codeBytes: number;
    /** Data section bytes the input passes removed (`dataBytes` without minus with). */
    dataBytesRemoved: number;
    /** The dead-data estimate the post-link panic pass reports on the module linked without. */
    deadDataEstimate?: number;
  };
}

/** What {@linkcode setUp} works out before any input is read. */
export interface LinkSetup {
  cwd: string;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
  parsed: LinkArgs;
  /** The target the command line names (`-m`), if it does. */
  explicitTarget?: "wasm32" | "wasm64";
  /** `-o` as given, and resolved. */
  outputArg: string;
  output: string;
  /**
   * The private file the linker writes, renamed over `output` at the end: same name (LLD puts
   * it in the name section), in a directory of its own under the cache.
   */
  tmpOutput: string;
  relocatable: boolean;
  /** `--help`, `--version`, or `-v` without inputs: the linker prints and writes nothing. */
  informational: boolean;
  /** js-bindgen's `--web`. */
  web: boolean;
  /** Write the `.js`/`.d.ts` glue (no `--no-glue`, no `"glue": false`). */
  glue: boolean;
  config: LinkConfig;
  /** The passes run on the inputs before the link (none when the configuration asks none). */
  inputPasses: InputPasses;
  cache: LinkCache;
}

/** What {@linkcode scanInputs} found in the inputs. */
export interface ScannedInputs {
  /** Argument index → the words that replace it (cleaned archives, dropped marker libraries). */
  replaced: Map<number, string[]>;
  fragments: { text: string; file: string; member?: string; record: number }[];
  /** The JS records of every object and archive member, linked or not. */
  records: JsRecord[];
  cleanedArchives: string[];
  memory64: boolean;
  /** An input was a libtest rlib (a `cargo test` harness). */
  isTest: boolean;
  /** Argument index → the words without the input passes' copies (for measuring). */
  unprepared: Map<number, string[]>;
  /** What the input passes did, when configured. */
  prepared?: Omit<InputPassesResult, "dataBytes" | "codeBytes" | "measured">;
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

/** A private file name beside `path` (same directory, so a rename replaces `path` atomically). */
function privatePath(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}${suffix}`);
}

/**
 * Links: see the module documentation. Throws UsageError for guard failures and bad input,
 * {@linkcode FragmentErrors} when embedded WAT does not assemble, {@linkcode LinkerFailedError}
 * when the linker fails, GlueError for inconsistent JS records. A failed link leaves no output.
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
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      timings[phase] = performance.now() - start;
    }
  };
  const setup = await timed("setup", () => setUp(options));
  const inputs = await timed("scan", () => scanInputs(setup));
  const target = setup.explicitTarget ?? (inputs.memory64 ? "wasm64" : "wasm32");
  const linker = await findLinker({
    explicit: lastValue(setup.parsed, "linkpass-linker"),
    configured: setup.config.linker,
    env: setup.env,
    memoFile: join(setup.cache.dir, "linker.json"),
  });
  const objects = await timed("assemble", () => assembleFragments(setup, inputs, target));
  const memory = memoryImport(setup.parsed, linker.lldMajor);
  const passes = postLinkPasses(setup.config); // bad configuration fails before linking
  const command = await linkerCommand(setup, inputs, objects.paths, target, memory);
  await setup.cache.writeManifest();
  const result: LinkResult = {
    output: setup.output,
    files: [],
    linker,
    linkerArgs: command.args,
    objects: { total: objects.paths.length, assembled: objects.assembled },
    cleanedArchives: inputs.cleanedArchives,
    timings,
  };
  try {
    await timed("linker", () => runLinker(setup, linker, command.args, options.onStdout));
    if (inputs.prepared && !setup.informational) {
      result.inputPasses = await timed(
        "measure",
        () => measureInputPasses(setup, inputs, objects.paths, target, memory, linker),
      );
    }
    if (!setup.informational) {
      if (setup.relocatable) await commitOutputs(setup, [], result);
      else {
        const out = await timed("post-link", () => postLink(setup, inputs, memory, passes));
        result.pipeline = out.report;
        result.js = out.js;
        await timed("write", () => commitOutputs(setup, out.files, result, out.bytes));
      }
    }
  } finally {
    await Deno.remove(dirname(setup.tmpOutput), { recursive: true }).catch(() => {});
    await Deno.remove(dirname(dirname(setup.tmpOutput))).catch(() => {}); // when empty
    if (command.responseFile) await Deno.remove(command.responseFile).catch(() => {});
  }
  await timed("cache", () => setup.cache.finish());
  timings.total = performance.now() - t0;
  return result;
}

/** Parses the command line, applies the guards and opens the cache. */
export async function setUp(options: LinkOptions): Promise<LinkSetup> {
  const cwd = options.cwd ?? Deno.cwd();
  const env = options.env ?? ((n: string) => Deno.env.get(n));
  const warn = options.onWarning ?? (() => {});
  const parsed = parseLinkArgs(options.args, (p) => Deno.readTextFileSync(resolve(cwd, p)));
  checkFlavor(parsed);
  for (const w of parsed.warnings) warn(w);
  const outputArg = lastValue(parsed, "o") ?? "a.out";
  const output = resolve(cwd, outputArg);
  const hasInputs = parsed.args.some((a) => a.type === "input");
  const config = options.config ?? await loadConfig(cwd, env);
  return {
    cwd,
    env,
    warn,
    parsed,
    explicitTarget: lastValue(parsed, "m") === undefined ? undefined : targetOf(parsed),
    outputArg,
    output,
    tmpOutput: join(
      dirname(output),
      ".linkpass",
      "tmp",
      crypto.randomUUID().slice(0, 12),
      basename(output),
    ),
    relocatable: hasOption(parsed, "relocatable"),
    informational: parsed.args.some((a) =>
      a.type === "option" && (a.id === "help" || a.id === "version" || (a.id === "v" && !hasInputs))
    ),
    web: hasOption(parsed, "linkpass-web"),
    glue: !hasOption(parsed, "linkpass-no-glue") && config.glue !== false,
    config,
    inputPasses: await inputPasses(config),
    cache: await LinkCache.open(output, join(dirname(output), ".linkpass")),
  };
}

/**
 * Reads every input once (objects, archives, `-l` libraries; marker libraries dropped), reusing
 * the scans the cache recorded for unchanged files, and cleans archives the linker would reject.
 */
export async function scanInputs(setup: LinkSetup): Promise<ScannedInputs> {
  const { parsed, cwd, cache } = setup;
  const searchPaths = optionValues(parsed, "library-path");
  const found: ScannedInputs = {
    replaced: new Map(),
    fragments: [],
    records: [],
    cleanedArchives: [],
    memory64: false,
    isTest: false,
    unprepared: new Map(),
  };
  const { passes: prePasses, key: preKey, config: preConfig } = setup.inputPasses;
  const warned = new Set<string>();
  if (prePasses.length) {
    found.prepared = {
      config: preConfig,
      prepared: [],
      made: [],
      objects: 0,
      changed: 0,
      roots: 0,
      callSites: 0,
    };
  }
  const versions: { crate: string; version: number; from: string }[] = [];
  for (const [index, arg] of parsed.args.entries()) {
    let path: string | undefined;
    if (arg.type === "input") path = arg.path;
    else if (arg.type === "option" && arg.id === "library") {
      if (MARKER_LIBRARIES.includes(arg.values[0])) {
        found.replaced.set(index, []);
        continue;
      }
      path = findLibrary(arg.values[0], searchPaths, cwd);
    }
    if (path === undefined) continue;
    if (isLibtestInput(path)) found.isTest = true;
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
      const found = await cache.lookupArchive(scan.cleaned, {
        size: scan.cleanedSize ?? -1,
        sha256: scan.cleanedSha256 ?? "",
        stat: scan.cleanedStat,
      });
      if (found) {
        cleanedPath = found.path;
        scan = { ...scan, cleanedStat: found.stat };
      } else scan = undefined; // rebuild a missing or corrupt copy
    }
    if (!scan) {
      const result = scanInput(path, await Deno.readFile(abs));
      scan = result.scan;
      if (result.cleaned) {
        const name = (await sha256(key)).slice(0, 24);
        const entry = await cache.store("archives", name, "a", result.cleaned);
        scan.cleaned = entry.name;
        scan.cleanedSize = result.cleaned.length;
        scan.cleanedSha256 = await sha256(result.cleaned);
        scan.cleanedStat = entry.stat;
        cleanedPath = entry.path;
      }
    }
    const wasm = !scan.unscanned && !(scan.bitcode.length === 1 && scan.bitcode[0] === path);
    if (found.prepared && wasm) {
      const result = found.prepared;
      let prep = scan.prepared?.key === preKey ? scan.prepared : undefined;
      let preparedPath: string | undefined;
      if (prep?.name) {
        const hit = await cache.lookupArchive(prep.name, {
          size: prep.size ?? -1,
          sha256: prep.sha256 ?? "",
          stat: prep.stat,
        }, "prepared");
        if (hit) {
          preparedPath = hit.path;
          prep = { ...prep, stat: hit.stat };
        } else prep = undefined; // rebuild a missing or corrupt copy
      }
      if (!prep) {
        const source = await Deno.readFile(cleanedPath ?? abs);
        const made = await prepareInput(path, source, prePasses);
        for (const w of made.warnings) {
          if (!warned.has(w)) setup.warn(w); // once per link, not once per input
          warned.add(w);
        }
        prep = {
          key: preKey,
          objects: made.objects,
          changed: made.changed,
          roots: made.roots,
          callSites: made.callSites,
        };
        if (made.bytes) {
          const name = (await sha256(`${key}\0${preKey}`)).slice(0, 24);
          const ext = source[0] === 0x21 ? "a" : "o"; // "!<arch>" or "\0asm"
          const entry = await cache.store("prepared", name, ext, made.bytes);
          prep.name = entry.name;
          prep.size = made.bytes.length;
          prep.sha256 = await sha256(made.bytes);
          prep.stat = entry.stat;
          preparedPath = entry.path;
          result.made.push(path);
        }
      }
      scan = { ...scan, prepared: prep };
      result.objects += prep.objects;
      result.changed += prep.changed;
      result.roots += prep.roots;
      result.callSites += prep.callSites;
      if (preparedPath) {
        result.prepared.push(path);
        found.unprepared.set(index, cleanedPath ? [cleanedPath] : [path]);
        found.replaced.set(index, [preparedPath]);
      }
    }
    cache.recordScan(key, scan);
    for (const f of scan.fragments) found.fragments.push({ ...f, file: path });
    for (const r of scan.js) {
      const where = `record ${r.record} of "${r.member ? `${path}(${r.member})` : path}"`;
      found.records.push({ ...r, offset: -1, where });
    }
    if (scan.memory64) found.memory64 = true;
    for (const v of scan.versions) {
      const from = v.member ? `${path}(${v.member})` : path;
      versions.push({ crate: v.crate, version: v.version, from });
    }
    if (cleanedPath) {
      found.cleanedArchives.push(path);
      if (!found.replaced.has(index)) found.replaced.set(index, [cleanedPath]);
    }
  }
  checkFormatVersions(versions);
  return found;
}

/** Assembles the WAT fragments (deduplicated by content) into objects, reusing cached ones. */
export async function assembleFragments(
  setup: LinkSetup,
  inputs: ScannedInputs,
  target: "wasm32" | "wasm64",
): Promise<{ paths: string[]; assembled: number }> {
  const paths: string[] = [];
  let assembled = 0;
  if (!inputs.fragments.length) return { paths, assembled };
  const asm = await import("../asm/mod.ts");
  const seen = new Set<string>();
  const errors: { message: string; frame: string }[] = [];
  for (const f of inputs.fragments) {
    const key = (await sha256(`${asm.ASSEMBLER_VERSION}\0${target}\0${f.text}`)).slice(0, 32);
    if (seen.has(key)) continue;
    seen.add(key);
    let path = await setup.cache.lookup("objects", key);
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
      path = (await setup.cache.store("objects", key, "o", bytes)).path;
      assembled++;
    }
    paths.push(path);
  }
  if (errors.length) throw new FragmentErrors(errors);
  return { paths, assembled };
}

/**
 * The linker's command line: the forwarded arguments (linkpass's own options dropped, cleaned
 * archives swapped in, `-o` pointed at the private file), the assembled objects, and what
 * js-bindgen's linker adds: the main memory import and `--max-memory` unless given. A response
 * file on the way in gives a (private) response file on the way out.
 */
export async function linkerCommand(
  setup: LinkSetup,
  inputs: ScannedInputs,
  objects: string[],
  target: "wasm32" | "wasm64",
  memory: { add?: string },
  /** Where the linker writes (default: the private output file). */
  output = setup.tmpOutput,
): Promise<{ args: string[]; responseFile?: string }> {
  const { parsed } = setup;
  await Deno.mkdir(dirname(output), { recursive: true });
  const words: string[] = [];
  let sawOutput = false;
  parsed.args.forEach((arg, i) => {
    if (arg.type === "option" && (arg.own || arg.id === "flavor")) return;
    if (arg.type === "option" && arg.id === "o") {
      if (!sawOutput) words.push("-o", output);
      sawOutput = true;
      return;
    }
    words.push(...(inputs.replaced.get(i) ?? arg.raw));
  });
  if (!sawOutput && !setup.informational) words.push("-o", output);
  words.push(...objects);
  if (!setup.explicitTarget && target === "wasm64") words.push("-mwasm64"); // from the inputs
  if (!setup.relocatable) {
    if (memory.add) words.push(memory.add);
    if (!hasOption(parsed, "max-memory")) {
      words.push(`--max-memory=${target === "wasm64" ? "17179869184" : "4294967296"}`);
    }
  }
  if (!parsed.usedResponseFile) return { args: ["-flavor", "wasm", ...words] };
  await Deno.mkdir(setup.cache.dir, { recursive: true });
  const responseFile = privatePath(
    join(setup.cache.dir, setup.outputArg.replace(/[^A-Za-z0-9._-]/g, "_")),
    ".rsp",
  );
  await Deno.writeTextFile(responseFile, words.map(quotePosix).join("\n"));
  return {
    args: ["-flavor", "wasm", "--rsp-quoting=posix", `@${responseFile}`],
    responseFile,
  };
}

const sectionBytes = (m: WasmModule, id: number) => m.section(id)?.payload.length ?? 0;

/**
 * The numbers of the input passes: data and code bytes of the module just linked, and with
 * `measureInputPasses` those of the same link with the original inputs (and the post-link panic
 * pass's dead-data estimate on it, when panic is configured).
 */
export async function measureInputPasses(
  setup: LinkSetup,
  inputs: ScannedInputs,
  objects: string[],
  target: "wasm32" | "wasm64",
  memory: { add?: string },
  linker: LinkerChoice,
): Promise<InputPassesResult> {
  const linked = WasmModule.parse(await Deno.readFile(setup.tmpOutput), { file: setup.outputArg });
  const result: InputPassesResult = {
    ...inputs.prepared!,
    dataBytes: sectionBytes(linked, 11),
    codeBytes: sectionBytes(linked, 10),
  };
  if (!setup.config.measureInputPasses || setup.relocatable) return result;
  const replaced = new Map([...inputs.replaced, ...inputs.unprepared]);
  const output = join(dirname(setup.tmpOutput), "without", basename(setup.tmpOutput));
  const command = await linkerCommand(
    setup,
    { ...inputs, replaced },
    objects,
    target,
    memory,
    output,
  );
  try {
    await runLinker({ ...setup, warn: () => {} }, linker, command.args);
    const bytes = await Deno.readFile(output);
    const plain = WasmModule.parse(bytes, { file: setup.outputArg });
    const dataBytes = sectionBytes(plain, 11);
    result.measured = {
      dataBytes,
      codeBytes: sectionBytes(plain, 10),
      dataBytesRemoved: dataBytes - result.dataBytes,
    };
    if (inputs.prepared!.config.panic !== undefined) {
      // The post-link pass as configured (its unwind setting included), trap mode otherwise.
      const configured = setup.config.passes?.panic;
      const pass = configured === undefined
        ? panic({ mode: "trap" })
        : passesFromConfig({ panic: configured }, setup.config.source)[0];
      const post = await runPipeline(bytes, [pass], { file: setup.outputArg }).catch(() =>
        undefined
      );
      const dead = post?.report.passes[0]?.report.deadData as { total?: number } | undefined;
      result.measured.deadDataEstimate = dead?.total;
    }
  } finally {
    if (command.responseFile) await Deno.remove(command.responseFile).catch(() => {});
  }
  return result;
}

/** Runs the linker; its warnings go to `warn`, a failure throws {@linkcode LinkerFailedError}. */
export async function runLinker(
  setup: LinkSetup,
  linker: LinkerChoice,
  args: string[],
  onStdout?: (text: string) => void,
): Promise<void> {
  const run = await new Deno.Command(linker.path, {
    args,
    cwd: setup.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr).replaceAll(setup.tmpOutput, setup.output);
  if (run.stdout.length) onStdout?.(new TextDecoder().decode(run.stdout));
  if (!run.success) {
    const gnuEntry = optionValues(setup.parsed, "flavor").length === 0 &&
      /entry symbol not defined/.test(stderr);
    throw new LinkerFailedError(
      linker.path,
      run.code,
      gnuEntry
        ? `${stderr}hint: no "-flavor wasm" and no --no-entry: rustc probably took this linker for a GNU ld (its name ends in "-ld"); add "-C linker-flavor=wasm-ld" or name the shim "...-wasm-ld"\n`
        : stderr,
    );
  }
  for (const line of stderr.split("\n")) if (line.trim()) setup.warn(line);
}

/**
 * Post-processes the linked module: the memory import renamed for old LLDs, the configured passes
 * (with the strip of the records linkpass consumed), then js-bindgen's sections from the inputs'
 * records, pruned to the imports the module kept; and the glue, unless turned off.
 */
export async function postLink(
  setup: LinkSetup,
  inputs: ScannedInputs,
  memory: { module: string; name: string; add?: string; rename?: boolean },
  passes: Pass[],
): Promise<{
  bytes: Uint8Array;
  files: [string, string | Uint8Array][];
  report: PipelineReport;
  js: NonNullable<LinkResult["js"]>;
}> {
  const bytes = await Deno.readFile(setup.tmpOutput);
  let linked: Uint8Array = bytes;
  if (memory.rename && memory.add) {
    const module = WasmModule.parse(bytes, { file: setup.outputArg });
    if (renameMemoryImport(module, { module: "env", name: "memory" }, memory)) {
      linked = module.toBytes();
    }
  }
  const pipeline = await runPipeline(linked, passes, { file: setup.outputArg });
  for (const run of pipeline.report.passes) {
    for (const w of (run.report.warnings as string[] | undefined) ?? []) {
      setup.warn(`${run.name}: ${w}`);
    }
  }
  const module = WasmModule.parse(pipeline.bytes, { file: setup.outputArg });
  const mainMemory = { module: memory.module, name: memory.name };
  const selection = finishModule(module, {
    records: inputs.records,
    mainMemory,
    web: setup.web,
    isTest: inputs.isTest,
  });
  const files: [string, string | Uint8Array][] = [...pipeline.files];
  if (setup.glue) {
    const stem = basename(setup.output).replace(/\.wasm$/i, "");
    const limits = readImports(module).find((i) =>
      i.kind === "memory" && i.module === mainMemory.module && i.name === mainMemory.name
    );
    const glue = renderGlue(
      selection.output,
      limits?.kind === "memory" ? limits.memory : undefined,
      basename(setup.output),
      selection.embedOrder,
    );
    files.push([`${stem}.js`, glue.js], [`${stem}.d.ts`, glue.dts]);
  }
  return {
    bytes: module.toBytes(),
    files,
    report: pipeline.report,
    js: {
      imports: selection.imports,
      embeds: selection.embeds,
      missing: selection.missing,
      dropped: selection.dropped,
    },
  };
}

/**
 * Puts the results in place: the module, its glue files and their copies where cargo uplifts the
 * output are committed together (fs.ts `writeOutputs`: temporary files renamed only when all are
 * written), so a failed or interrupted commit leaves none of them, and links of one output running
 * in parallel each leave a complete, matching set.
 */
export async function commitOutputs(
  setup: LinkSetup,
  files: [string, string | Uint8Array][],
  result: LinkResult,
  bytes?: Uint8Array,
): Promise<void> {
  const uplift = cargoUpliftDir(setup.output, setup.parsed, setup.env);
  const outputs: OutputFile[] = [
    { path: setup.output, contents: bytes ?? await Deno.readFile(setup.tmpOutput) },
  ];
  for (const [name, contents] of files) {
    const path = isAbsolute(name) ? name : join(dirname(setup.output), name);
    outputs.push({ path, contents });
    if (uplift && !isAbsolute(name)) outputs.push({ path: join(uplift, name), contents });
  }
  await writeOutputs(outputs, { createFolders: false });
  await Deno.remove(setup.tmpOutput).catch(() => {});
  result.files.push(...outputs.slice(1).map((o) => o.path));
}
