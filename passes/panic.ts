/**
 * Pass `panic`: removes Rust's panic machinery at link time. The panic roots (functions that never
 * return: `rust_begin_unwind`, `core::panicking::*`, `unwrap_failed`, index failures, ...) are
 * found by name in the `name` section, in every symbol style Rust emits; their bodies become
 * `unreachable` (mode `trap`) or a call to an imported JS hook with the panic's file, line and
 * column followed by `unreachable` (mode `hook`); then everything that became unreachable
 * (core::fmt, the panic hook, ...) is removed.
 *
 * The hook is imported as `linkpass`/`panic` by default, with the signature
 * `(filePtr: i32, fileLen: i32, line: i32, col: i32) -> ()`: the file name is `fileLen` UTF-8
 * bytes at `filePtr` in the module's memory.
 * @module
 */
import { readNames } from "../wasm/custom.ts";
import type { WasmModule } from "../wasm/module.ts";
import { readImports, readTags } from "../wasm/types.ts";
import { canonicalPath, loadDemangler } from "./_demangle.ts";
import { walk } from "./_ir_walk.ts";
import {
  type CallApi,
  type CallSlot,
  findCallSlots,
  fn,
  rootCallTarget,
  trapWithOperands,
  whyMayReturn,
} from "./_panic_calls.ts";
import { type CallSites, collectMessages, locationParam, prepareHook } from "./_panic_location.ts";
import { DataImage, type LocationRecord, RangeSet } from "./_panic_data.ts";
import { matchRoot, ROOT_HINT, type RootRule } from "./_panic_roots.ts";
import type { BinaryenModule, IrPassContext, PassContext, PassReport } from "./types.ts";
import { codeConstants, compactImmediates, rewriteBodies } from "./_panic_bytes.ts";
import { findRootsOnBytes, panicObject } from "./_panic_object.ts";
import { eliminateDeadCode } from "./dce.ts";
import { readCode, readFunctions, readTypes } from "../wasm/types.ts";
import {
  definePass,
  flag,
  type ImportName,
  importName,
  type OptionSpec,
  type PassFactory,
  type PassInput,
  string,
  type WithDefault,
} from "./define.ts";
import { UsageError } from "../errors.ts";

/** One root in the report. */
export interface PanicRoot {
  /** The name in the name section. */
  name: string;
  /** Canonical Rust path. */
  path: string;
  /** What the body became. */
  action: "trap" | "hook";
  /** Hook mode: how the Location parameter was found (or why not). */
  location?: string;
}

const MODES = ["trap", "hook"] as const;
const ENGINES = ["bytes", "binaryen"] as const;

/** The options of {@linkcode panic}, as its definition declares them. */
export interface PanicSchema extends Record<string, OptionSpec> {
  /** `trap` or `hook`. */
  mode: WithDefault<"trap" | "hook">;
  /** The hook import in `hook` mode. */
  hook: WithDefault<ImportName>;
  /** Run on panic=unwind modules. */
  allowUnwindChange: WithDefault<boolean>;
  /** `bytes` (rewrite on the code bytes, then dce) or `binaryen` (the reference engine). */
  engine: WithDefault<"bytes" | "binaryen">;
}

/**
 * The `panic` pass.
 *
 * @example Turn every panic into a trap
 * ```ts
 * import assert from "node:assert";
 * import { runPipeline } from "../pipeline.ts";
 * import { panic } from "./panic.ts";
 * const input = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const { report } = await runPipeline(input, [panic({ mode: "trap" })]);
 * assert.ok(report.outputBytes < report.inputBytes / 2);
 * assert.throws(() => panic({ mode: "abort" as "trap" }), /use one of "trap", "hook"/);
 * ```
 */
export const panic: PassFactory<PanicSchema> = definePass<PanicSchema>({
  name: "panic",
  description: "remove Rust's panic machinery",
  level: "sections",
  main: "mode",
  options: {
    mode: string({
      help: "trap: panic roots become unreachable; hook: they call an imported (filePtr, " +
        "fileLen, line, col) hook first; then unreachable code (core::fmt, ...) is removed",
      choices: MODES,
      value: "mode",
      default: "trap",
    }),
    hook: importName({
      help: "import of the hook in --panic hook mode",
      flag: "panic-hook",
      default: { module: "linkpass", name: "panic" },
    }),
    allowUnwindChange: flag({
      help: "run --panic on panic=unwind modules, where unwinding panics become traps",
      flag: "allow-unwind-change",
    }),
    engine: string({
      help: "bytes: rewrite the code bytes and remove dead code without binaryen (trap mode); " +
        "binaryen: through binaryen's IR (always used in hook mode)",
      choices: ENGINES,
      value: "engine",
      default: "bytes",
    }),
  },
  create: (options) => {
    const settings: PanicSettings = {
      mode: options.mode,
      hookModule: options.hook.module,
      hookName: options.hook.name,
      allowUnwindChange: options.allowUnwindChange,
    };
    const ir = options.engine === "binaryen" || options.mode === "hook"
      ? { run: (ir: BinaryenModule, ctx: IrPassContext) => runPanic(ir, ctx, settings) }
      : undefined;
    // The byte engine writes only `unreachable` and removes code: it adds no feature.
    return { run: (m, ctx) => runPanicBytes(m, ctx, settings), ir, preservesFeatures: true };
  },
});

/** Options of {@linkcode panic}. */
export type PanicOptions = PassInput<typeof panic.definition.options>;

/** The checked options `runPanic` works with. */
interface PanicSettings {
  mode: "trap" | "hook";
  hookModule: string;
  hookName: string;
  allowUnwindChange: boolean;
}

function quoted(ctx: PassContext): string {
  return ctx.file ? `"${ctx.file}"` : "the module";
}

/** Refuses modules that use exception handling for panics, unless allowed. */
function checkUnwind(
  ctx: PassContext,
  input: WasmModule,
  names: Map<number, string>,
  allow: boolean,
): string[] {
  const signs: string[] = [];
  const tags = readTags(input).length;
  if (tags) signs.push(`${tags} exception tag(s)`);
  for (const imp of readImports(input)) {
    if (imp.kind === "tag") signs.push(`the tag import "${imp.module}"/"${imp.name}"`);
  }
  for (const name of names.values()) {
    if (/^_Unwind_(RaiseException|Resume)$|__wbindgen_jstag|__cpp_exception/.test(name)) {
      signs.push(`the function "${name}"`);
      break;
    }
  }
  if (signs.length && !allow) {
    throw new UsageError(
      `${quoted(ctx)} looks built with panic=unwind (it has ${signs.join(", ")}): turning ` +
        `its panics into traps changes behaviour (destructors no longer run, catch_unwind and ` +
        `JS callers no longer see a catchable exception); pass --allow-unwind-change to proceed`,
    );
  }
  return signs;
}

interface Candidate {
  index: number;
  name: string;
  path: string;
  rule: RootRule;
  func: number;
  internal: string;
}

async function runPanic(
  ir: BinaryenModule,
  ctx: IrPassContext,
  options: PanicSettings,
): Promise<PassReport> {
  const binaryen = ctx.binaryen;
  const names = checkInput(ctx.input, ctx);
  const unwindSigns = checkUnwind(ctx, ctx.input, names, options.allowUnwindChange ?? false);
  const codeBytesBefore = codeBytes(ctx.input);
  const functionsBefore = ir.getNumFunctions();
  // Names by function index from the name section; when an earlier IR pass of the same run
  // changed the function list, binaryen's own names (read from the same section) stand in.
  const byIndex = functionsBefore === countFunctions(ctx.input);
  const nameOf = (i: number) =>
    byIndex ? names.get(i) : fn(binaryen).getName(ir.getFunctionByIndex(i));

  // 1. Candidates by name.
  const demangle = await loadDemangler();
  const candidates: Candidate[] = [];
  for (let index = 0; index < functionsBefore; index++) {
    const name = nameOf(index);
    if (!name || !ROOT_HINT.test(name)) continue;
    const path = canonicalPath(name, demangle);
    const rule = matchRoot(path);
    if (!rule) continue;
    const func = ir.getFunctionByIndex(index);
    candidates.push({ index, name, path, rule, func, internal: fn(binaryen).getName(func) });
  }

  // 2. Keep only candidates that provably never return: by the IR, or by the byte engine's check
  // on the same functions (which also counts a call to a root as never returning), while the IR
  // still has the input's functions.
  const provenOnBytes = byIndex
    ? new Set(
      (await findRootsOnBytes(names, readCode(ctx.input), countImported(ctx.input), () => {}))
        .map((r) => r.index),
    )
    : new Set<number>();
  const roots: Candidate[] = [];
  for (const c of candidates) {
    const why = provenOnBytes.has(c.index) ? undefined : whyMayReturn(binaryen, c.func);
    if (why) ctx.warn(`"${c.name}" is named like a panic root but ${why}; left alone`);
    else roots.push(c);
  }
  const rootNames = new Set(roots.map((r) => r.internal));

  // 3. One walk over the code: call sites of roots, and constants used elsewhere.
  const sites = new Map<string, CallSites>();
  const otherConstants = new Set<number>();
  /** Per root: constants its own body passes last to other roots (LTO-specialized roots). */
  const innerConstants = new Map<string, Set<number>>();
  const Call = (binaryen as unknown as { Call: CallApi }).Call;
  const Const = (binaryen as unknown as { Const: { getValueI32(e: number): number } }).Const;
  const { CallId, ConstId, i32 } = binaryen;
  const slots: CallSlot[] = [];
  for (let i = 0; i < functionsBefore; i++) {
    const f = ir.getFunctionByIndex(i);
    const body = fn(binaryen).getBody(f);
    if (!body) continue;
    const name = fn(binaryen).getName(f);
    const inRoot = rootNames.has(name);
    const operandOfRootCall = new Set<number>();
    if (!inRoot) {
      const target = rootCallTarget(binaryen, body, rootNames);
      if (target) slots.push({ target, call: body, set: (e) => fn(binaryen).setBody(f, e) });
    }
    walk(binaryen, body, (expr, id) => {
      if (!inRoot) findCallSlots(binaryen, expr, id, rootNames, slots);
      if (id === CallId) {
        const target = Call.getTarget(expr);
        if (!rootNames.has(target)) return;
        const s = sites.get(target) ?? { count: 0, constants: new Map() };
        sites.set(target, s);
        s.count++;
        const n = Call.getNumOperands(expr);
        for (let k = 0; k < n; k++) {
          const op = Call.getOperandAt(expr, k);
          if (binaryen.getExpressionId(op) !== ConstId || binaryen.getExpressionType(op) !== i32) {
            continue;
          }
          const c = Const.getValueI32(op) >>> 0;
          operandOfRootCall.add(op);
          if (!inRoot) s.constants.set(k, [...(s.constants.get(k) ?? []), c]);
          else if (k === n - 1) {
            innerConstants.set(name, (innerConstants.get(name) ?? new Set()).add(c));
          }
        }
      } else if (id === ConstId && !inRoot && !operandOfRootCall.has(expr)) {
        if (binaryen.getExpressionType(expr) === i32) {
          otherConstants.add(Const.getValueI32(expr) >>> 0);
        }
      }
    });
  }

  // 4. Rewrite the roots.
  const image = new DataImage(ctx.input);
  const report: PanicRoot[] = [];
  const hook = options.mode === "hook" ? prepareHook(ir, binaryen, options) : undefined;
  let hooked = 0;
  const locations = new Map<number, LocationRecord>();
  const messages = new RangeSet();
  for (const r of roots) {
    const s = sites.get(r.internal);
    const params = binaryen.expandType(fn(binaryen).getParams(r.func)).map((t) =>
      t === binaryen.i32 ? "i32" : String(t)
    );
    const loc = locationParam(r.rule, params, s, image, innerConstants.get(r.internal));
    for (const rec of loc.records) locations.set(rec.address, rec);
    collectMessages(s, image, otherConstants, messages);
    const entry: PanicRoot = { name: r.name, path: r.path, action: "trap" };
    if (hook) {
      if (loc.constant && hook.hasMemory) {
        fn(binaryen).setBody(r.func, hook.constantBody(loc.constant));
        entry.action = "hook";
        hooked++;
      } else if (loc.index !== undefined && hook.hasMemory) {
        fn(binaryen).setBody(r.func, hook.body(loc.index));
        entry.action = "hook";
        hooked++;
      } else {
        fn(binaryen).setBody(r.func, ir.unreachable());
      }
      entry.location = !hook.hasMemory ? "the module has no memory: trap" : loc.note;
    } else {
      fn(binaryen).setBody(r.func, ir.unreachable());
    }
    ir.runPassesOnFunction(r.func, ["reorder-locals"]);
    report.push(entry);
  }
  if (hook && hooked === 0) hook.remove();
  // A call to a root that traps is its side-effecting operands, then a trap: rewrite it so, which
  // also lets the root itself go when nothing else refers to it (wasm-snip does the same).
  const trapping = new Set(
    roots.filter((_, i) => report[i].action === "trap").map((r) => r.internal),
  );
  let callSitesRewritten = 0;
  for (const slot of slots) {
    if (!trapping.has(slot.target)) continue;
    slot.set(trapWithOperands(ir, binaryen, slot.call));
    callSitesRewritten++;
  }
  if (hook) {
    const fallbacks = report.filter((r) => r.action === "trap").length;
    if (fallbacks) {
      ctx.warn(`${fallbacks} root(s) trap without calling the hook: see roots[].location`);
    }
  }
  if (roots.length === 0) ctx.warn(noRoots(ctx, names, functionsBefore));

  // 5. Remove what became unreachable.
  ir.runPasses(["remove-unused-module-elements"]);
  const functionsAfter = ir.getNumFunctions();
  // The size after comes from the module the pipeline writes anyway (no extra encode here).
  ctx.onOutput((output) => ({ codeBytesAfter: codeBytes(output) }));

  // 6. Dead data: Location records (trap mode) and messages that only panics used.
  const locationsDead = options.mode === "trap" || hooked === 0;
  const out: PassReport = {
    mode: options.mode,
    engine: "binaryen",
    rootsFound: roots.length,
    roots: report,
    functionsBefore,
    functionsAfter,
    functionsRemoved: functionsBefore - functionsAfter,
    callSitesRewritten,
    codeBytesBefore,
    deadData: deadData(locations, messages, otherConstants, locationsDead),
  };
  if (hook) out.hook = { import: `${hook.module}/${hook.name}`, roots: hooked };
  if (unwindSigns.length) out.unwindChangeAllowed = unwindSigns;
  return out;
}

/** How to keep the names the pass needs. */
const KEEP_NAMES = `keep names: build without stripping symbols (Cargo profile strip = "none" or ` +
  `"debuginfo", no wasm-strip, no wasm-bindgen --remove-name-section), and run panic before ` +
  `strip-custom-sections`;

/** The warning when no root was found; it says so when most functions have no name. */
function noRoots(ctx: PassContext, names: Map<number, string>, functions: number): string {
  const message = `no panic roots found in ${quoted(ctx)}; nothing changed`;
  if (names.size * 2 >= functions) return message;
  return `${message}: only ${names.size} of ${functions} functions have a name, and the panic ` +
    `functions may be among the others; ${KEEP_NAMES}`;
}

/** The module checks both engines make before touching anything. */
function checkInput(m: WasmModule, ctx: PassContext): Map<number, string> {
  if (m.isRelocatable) {
    throw new UsageError(
      `${quoted(ctx)} is a relocatable object: the panic pass works on objects only in trap ` +
        `mode (the byte engine); hook mode and --panic-engine binaryen need the linker's output`,
    );
  }
  const names = readNames(m)?.functions;
  if (!names || names.size === 0) {
    throw new UsageError(
      `${quoted(ctx)} has no function names (no "name" section), and the panic pass finds ` +
        `panic functions only by name, never by guessing; ${KEEP_NAMES}`,
    );
  }
  return names;
}

/** Trap mode on bytes: roots and call sites rewritten on the code, then `dce`. */
async function runPanicBytes(
  m: WasmModule,
  ctx: PassContext,
  options: PanicSettings,
): Promise<PassReport> {
  if (m.isRelocatable) {
    // Before the link: the rewrite on the object, relocations following the bytes; the
    // linker's --gc-sections then drops what only panics used, data included.
    // An object shows panic=unwind by its exception tags (defined or imported); symbol names
    // are not used here: one object sees only its own.
    const unwindSigns = checkUnwind(ctx, m, new Map(), options.allowUnwindChange);
    const r = await panicObject(m);
    r.warnings.forEach((w) => ctx.warn(w));
    const { warnings: _, ...report } = r;
    const out: PassReport = { mode: options.mode, engine: "bytes", object: true, ...report };
    if (unwindSigns.length) out.unwindChangeAllowed = unwindSigns;
    return out;
  }
  const names = checkInput(m, ctx);
  const unwindSigns = checkUnwind(ctx, m, names, options.allowUnwindChange);
  const codeBytesBefore = codeBytes(m);
  const imported = countImported(m);
  const bodies = readCode(m);
  const types = readTypes(m);
  const funcTypes = readFunctions(m);
  const roots = await findRootsOnBytes(names, bodies, imported, ctx.warn);
  const image = new DataImage(m);
  const functionsBefore = imported + bodies.length;
  // The rewritten bodies go to dce as they are: it writes the code section once.
  const { rewrite, bodies: rewritten } = rewriteBodies(m, new Set(roots.map((r) => r.index)));
  const report: PanicRoot[] = [];
  const locations = new Map<number, LocationRecord>();
  const messages = new RangeSet();
  if (roots.length === 0) ctx.warn(noRoots(ctx, names, functionsBefore));
  const removed = roots.length
    ? eliminateDeadCode(m, { file: ctx.file, bodies: rewritten })
    : undefined;
  // The kept code in its shortest encoding, as binaryen writes it: the linker's padded LEBs
  // (room for relocations, useless once linked) are otherwise most of the gap to binaryen.
  if (roots.length) compactImmediates(m);
  // What the remaining code still refers to stays: constants found once dead code is gone.
  // (only addresses in the data: the estimate asks about nothing else)
  codeConstants(m.section(10)?.payload ?? new Uint8Array(0), rewrite.otherConstants, ...image.span);
  for (const r of roots) {
    const s = rewrite.sites.get(r.index);
    const t = types[funcTypes[r.index - imported]];
    const params = t?.kind === "func" ? t.params : [];
    const loc = locationParam(r.rule, params, s, image, rewrite.innerConstants.get(r.index));
    for (const rec of loc.records) locations.set(rec.address, rec);
    collectMessages(s, image, rewrite.otherConstants, messages);
    report.push({ name: r.name, path: r.path, action: "trap" });
  }

  const out: PassReport = {
    mode: options.mode,
    engine: "bytes",
    rootsFound: roots.length,
    roots: report,
    functionsBefore,
    functionsAfter: functionsBefore - (removed?.functionsRemoved ?? 0),
    functionsRemoved: removed?.functionsRemoved ?? 0,
    callSitesRewritten: rewrite.callSitesRewritten,
    codeBytesBefore,
    codeBytesAfter: codeBytes(m),
    deadData: deadData(locations, messages, rewrite.otherConstants, true),
  };
  if (unwindSigns.length) out.unwindChangeAllowed = unwindSigns;
  return out;
}

/** The dead-data estimate: Location records, their file names, and messages. */
function deadData(
  locations: Map<number, LocationRecord>,
  messages: RangeSet,
  otherConstants: { has(value: number): boolean },
  locationsDead: boolean,
) {
  const dead = new RangeSet();
  const fileNames = new RangeSet();
  if (locationsDead) {
    for (const rec of locations.values()) {
      if (otherConstants.has(rec.address)) continue;
      dead.add(rec.address, 16);
      if (!otherConstants.has(rec.filePtr)) fileNames.add(rec.filePtr, rec.fileLen);
    }
  }
  return {
    note: "estimated bytes left in data segments that only panics used (not removed)",
    locationRecords: locationsDead ? locations.size : 0,
    locationBytes: dead.bytes,
    fileNameBytes: fileNames.bytes,
    messageBytes: messages.bytes,
    total: dead.bytes + fileNames.bytes + messages.bytes,
  };
}

function countImported(m: WasmModule): number {
  return readImports(m).filter((i) => i.kind === "func").length;
}

function countFunctions(m: WasmModule): number {
  const s = m.section(3);
  return countImported(m) + (s ? m.reader(s).u32() : 0);
}

function codeBytes(m: WasmModule): number {
  return m.section(10)?.payload.length ?? 0;
}
