/**
 * Reachability over the zero-copy model: which functions, globals, tables and element segments
 * a module can ever use, starting from its roots (exports, the start function, active element
 * segments of live tables, `ref.func`, and roots a caller adds). Only reachable bodies are
 * decoded; each is decoded once, and the index immediates found are kept so that a rewrite
 * (see `passes/dce.ts`) needs no second decode.
 * @module
 */
import { decodeInstructions, Imm } from "./instructions.ts";
import type { WasmModule } from "./module.ts";
import {
  type ElementSegment,
  readCode,
  readData,
  readElements,
  readExports,
  readFunctions,
  readGlobals,
  readImports,
  readStart,
  readTables,
  readTypes,
} from "./types.ts";

/** Extra roots, by index in each index space (imports first, as in the binary format). */
export interface ReachRoots {
  /** Functions to keep, whatever refers to them. */
  functions?: Iterable<number>;
  /** Globals to keep. */
  globals?: Iterable<number>;
  /** Tables to keep. */
  tables?: Iterable<number>;
}

/**
 * A function body that replaces the code section's (a pass rewrote it and has not re-encoded the
 * section), with the references it holds, so that nothing decodes it again.
 */
export interface RewrittenBody {
  /** The body: locals and code, without its size prefix. */
  body: Uint8Array;
  /** Its references in the {@linkcode BodyRefs} layout (function, global, type, table, elem). */
  refs: BodyRefs;
  /** The opcode of the instruction each reference belongs to (one per quadruple). */
  ops: Uint8Array;
}

/** Options of {@linkcode reach}. */
export interface ReachOptions {
  /**
   * Bodies (by defined-function index) to use instead of the code section's; the rewrite
   * (`passes/dce.ts`) writes them in their place.
   */
  bodies?: ReadonlyMap<number, RewrittenBody>;
  /** Roots besides exports and the start function. */
  roots?: ReachRoots;
  /**
   * False to leave exports out of the roots (everything then hangs on `roots` and the start
   * function: "what would remain if only these were exported").
   */
  exportsAreRoots?: boolean;
}

/**
 * The index immediates of one body that name a function, global, type, table or element
 * segment: flat quadruples (kind, value, offset in the body, LEB length).
 */
export type BodyRefs = Int32Array;

/** What {@linkcode reach} found. Arrays are indexed like the module's index spaces. */
export interface Reachability {
  /** Function count, imports included. */
  functionCount: number;
  /** Imported functions come first: this many. */
  importedFunctions: number;
  /**
   * 1 for each function the output keeps: its body may run, or it is only referenced (in a
   * live table's element segment, never called through a `call_indirect` of its type), see
   * `called`.
   */
  functions: Uint8Array;
  /** 1 for each kept function whose body may run; a kept function without it can trap instead. */
  called: Uint8Array;
  /** 1 for each reachable global. */
  globals: Uint8Array;
  /** 1 for each live table. */
  tables: Uint8Array;
  /** 1 for each live element segment. */
  elements: Uint8Array;
  /** Imported globals and tables come first: these many. */
  importedGlobals: number;
  /** See `importedGlobals`. */
  importedTables: number;
  /** For each reachable defined function (by defined index), its body's references. */
  refs: (BodyRefs | undefined)[];
  /**
   * True when some live body names a type outside block types and `call_indirect` (typed
   * references, GC): type indices then hide in value types too.
   */
  typedReferences: boolean;
  /** The element segments, as read. */
  segments: ElementSegment[];
  /** The bodies given in {@linkcode ReachOptions.bodies}, if any. */
  bodies?: ReadonlyMap<number, RewrittenBody>;
  /** Why each function is live: the function that first referred to it, or a root label. */
  reason(func: number): string;
}

/**
 * Computes what is reachable from the roots. Data segments and memories are always kept (active
 * data writes memory at instantiation), so they are not tracked.
 *
 * @example Only the exported function and what it calls stay live
 * ```ts
 * import assert from "node:assert";
 * import { WasmModule } from "./module.ts";
 * import { reach } from "./reach.ts";
 * // (func $a call $b) (func $b) (func $c) (export "a" (func $a))
 * const bytes = new Uint8Array([
 *   0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
 *   1, 4, 1, 0x60, 0, 0, // type
 *   3, 4, 3, 0, 0, 0, // functions
 *   7, 5, 1, 1, 0x61, 0, 0, // export "a"
 *   10, 12, 3, 4, 0, 0x10, 1, 0x0b, 2, 0, 0x0b, 2, 0, 0x0b, // code
 * ]);
 * const r = reach(WasmModule.parse(bytes));
 * assert.deepStrictEqual([...r.functions], [1, 1, 0]);
 * assert.strictEqual(r.reason(1), "called by function 0");
 * ```
 */
export function reach(m: WasmModule, options: ReachOptions = {}): Reachability {
  const imports = readImports(m);
  const importedFunctions = imports.filter((i) => i.kind === "func").length;
  const importedGlobals = imports.filter((i) => i.kind === "global").length;
  const importedTables = imports.filter((i) => i.kind === "table").length;
  const functionCount = importedFunctions + readFunctions(m).length;
  const globalInits = readGlobals(m).map((g) => g.init);
  const globalCount = importedGlobals + globalInits.length;
  const tableCount = importedTables + readTables(m).length;
  const segments = readElements(m);
  const bodies = readCode(m);
  if (bodies.length !== functionCount - importedFunctions) {
    throw new RangeError(
      `the code section has ${bodies.length} bodies for ${
        functionCount - importedFunctions
      } functions`,
    );
  }

  const functions = new Uint8Array(functionCount);
  const called = new Uint8Array(functionCount);
  // Signature of each function, as a key: call_indirect checks signatures, not type indices.
  const typeKeys = readTypes(m).map((t, i) =>
    t.kind === "func" ? `${t.params.join(",")}->${t.results.join(",")}` : `#${i}`
  );
  const funcSig: string[] = [
    ...imports.flatMap((i) => i.kind === "func" ? [typeKeys[i.type]] : []),
    ...readFunctions(m).map((t) => typeKeys[t]),
  ];
  /** Per table: entries are reachable by any means (exported, imported, table.get, ...). */

  const globals = new Uint8Array(globalCount);
  const tables = new Uint8Array(tableCount);
  const elements = new Uint8Array(segments.length);
  const refs: (BodyRefs | undefined)[] = new Array(bodies.length);
  // Why each function is live: most are called by (or `ref.func`'d in) a body, kept as a number
  // (caller * 2, + 1 for ref.func; the text is made when asked); other reasons as text.
  const byBody = new Int32Array(functionCount).fill(-1);
  const why = new Map<number, string>();
  const reasonText = (f: number): string | undefined =>
    byBody[f] >= 0
      ? `${byBody[f] & 1 ? "referred to" : "called"} by function ${byBody[f] >> 1}`
      : why.get(f);
  const setReason = (f: number, reason: string | number) => {
    if (typeof reason === "number") byBody[f] = reason;
    else {
      byBody[f] = -1;
      why.set(f, reason);
    }
  };
  const work: number[] = [];
  const globalWork: number[] = [];

  /**
   * Keeps `f`; its body runs only when `call` (called, exported, ref.func, ...). `reason` is text,
   * or a body's reference as a number (see `byBody`).
   */
  const markFunc = (f: number, reason: string | number, call = true) => {
    if (f >= functionCount) return;
    if (!functions[f]) {
      functions[f] = 1;
      setReason(f, reason);
    }
    if (!call || called[f]) return;
    called[f] = 1;
    if (byBody[f] < 0 && why.get(f)!.startsWith("in element segment")) setReason(f, reason);
    if (f >= importedFunctions) work.push(f);
  };
  const markGlobal = (g: number) => {
    if (g >= globalCount || globals[g]) return;
    globals[g] = 1;
    if (g >= importedGlobals) globalWork.push(g);
  };
  const tableOpen = new Uint8Array(tableCount);
  const tableSigs: Set<string>[] = Array.from({ length: tableCount }, () => new Set());
  /** Functions of each segment (index form, or ref.func items). */
  const segmentFuncs = segments.map((s) =>
    s.functions ?? (s.expressions ?? []).flatMap((e) => e[0] === 0xd2 ? [refFuncIndex(e)] : [])
  );
  const markTable = (t: number) => {
    if (t >= tableCount || tables[t]) return;
    tables[t] = 1;
    segments.forEach((s, i) => {
      if (s.mode === "active" && s.table === t) markSegment(i);
    });
  };
  /** The table's entries may run whatever their type: exported, imported, read by table.get. */
  const openTable = (t: number, reason: string) => {
    if (t >= tableCount || tableOpen[t]) return;
    markTable(t);
    tableOpen[t] = 1;
    segments.forEach((s, i) => {
      if (s.mode !== "active" || s.table !== t) return;
      for (const f of segmentFuncs[i]) markFunc(f, reason);
    });
  };
  /** A live call_indirect with signature `sig` on table `t` can run the entries of that type. */
  const callIndirect = (t: number, sig: string, caller: number) => {
    markTable(t);
    if (t >= tableCount || tableSigs[t].has(sig)) return;
    tableSigs[t].add(sig);
    const reason = `called indirectly by function ${caller}`;
    segments.forEach((s, i) => {
      if (s.mode !== "active" || s.table !== t) return;
      for (const f of segmentFuncs[i]) if (funcSig[f] === sig) markFunc(f, reason);
    });
  };
  const markSegment = (i: number) => {
    if (i >= segments.length || elements[i]) return;
    elements[i] = 1;
    const s = segments[i];
    const table = s.mode === "active" ? s.table : -1;
    if (table >= 0) markTable(table);
    for (const f of segmentFuncs[i]) {
      const runs = s.mode !== "active" || tableOpen[table] === 1 ||
        tableSigs[table].has(funcSig[f]);
      // entries of passive segments reach tables through table.init: they may run
      markFunc(f, `in element segment ${i}`, runs);
    }
    for (const e of s.expressions ?? []) constRefs(e, `element segment ${i}`);
    if (s.offset) constRefs(s.offset, `element segment ${i}`);
  };
  const constRefs = (expr: Uint8Array, where: string) => {
    decodeInstructions(expr, 0, expr.length, false, {
      immediate(kind, value) {
        if (kind === Imm.func) markFunc(value, `referred to by ${where}`);
        else if (kind === Imm.global) markGlobal(value);
      },
    });
  };

  // Roots.
  if (options.exportsAreRoots !== false) {
    for (const e of readExports(m)) {
      if (e.kind === "func") markFunc(e.index, `exported as "${e.name}"`);
      else if (e.kind === "global") markGlobal(e.index);
      else if (e.kind === "table") openTable(e.index, `in the exported table "${e.name}"`);
    }
  }
  const start = readStart(m);
  if (start !== undefined) markFunc(start, "the start function");
  for (const f of options.roots?.functions ?? []) markFunc(f, "a root");
  for (const g of options.roots?.globals ?? []) markGlobal(g);
  for (const t of options.roots?.tables ?? []) openTable(t, "in a root table");
  // Imported tables are shared with the host: their segments are observable.
  for (let t = 0; t < importedTables; t++) openTable(t, "in an imported table");
  // Declarative segments only declare what ref.func may name: live with their functions.
  // Passive segments are live when table.init or elem.drop names them (found in bodies).
  // Data segment offsets may read globals.
  for (const d of readData(m)) if (d.offset) constRefs(d.offset, "a data segment");

  // The references of every body, written into shared arenas: each body's are one view of its
  // arena (no array of its own); `bodyStart` is where the current body's begin, `found` how many.
  let arena = new Int32Array(1 << 16);
  let bodyStart = 0;
  let found = 0;
  let current = 0;
  let indirectType = 0;
  let typedReferences = false;
  const visitor = {
    immediate(kind: number, value: number, at: number, length: number, op: number) {
      if (kind === Imm.func) {
        // Most calls name a function already called; the others keep their reason as a number.
        if (!called[value]) markFunc(value, current * 2 + (op === 0xd2 ? 1 : 0));
      } else if (kind === Imm.type) {
        // kept so that a rewrite can re-encode padded type indices minimally
        if (op === 0x11 || op === 0x13) indirectType = value;
        else if (op !== 0x02 && op !== 0x03 && op !== 0x04 && op !== 0x06 && op !== 0x1f) {
          typedReferences = true; // a heap type or call_ref: typed references (GC)
        }
      } else if (kind === Imm.global) markGlobal(value);
      else if (kind === Imm.table) {
        if (op === 0x11 || op === 0x13) {
          const sig = typeKeys[indirectType] ?? `#${indirectType}`;
          callIndirect(value, sig, current);
        } else if (op === 0x25 || op === 0xfc) {
          openTable(value, `in table ${value}, which function ${current} reads or copies`);
        } else markTable(value);
      } else if (kind === Imm.elem) markSegment(value);
      else return;
      if (bodyStart + found + 4 > arena.length) {
        // a new arena; the current body's references move with it, earlier views keep theirs
        const next = new Int32Array(Math.max(arena.length, 4 * (found + 4)));
        next.set(arena.subarray(bodyStart, bodyStart + found));
        arena = next;
        bodyStart = 0;
      }
      const k = bodyStart + found;
      arena[k] = kind;
      arena[k + 1] = value;
      arena[k + 2] = at;
      arena[k + 3] = length;
      found += 4;
    },
  };
  while (work.length || globalWork.length) {
    while (globalWork.length) {
      const g = globalWork.pop()!;
      constRefs(globalInits[g - importedGlobals], `the initializer of global ${g}`);
    }
    const f = work.pop();
    if (f === undefined) continue;
    if (!called[f]) continue;
    current = f;
    const given = options.bodies?.get(f - importedFunctions);
    if (given) {
      const { refs: known, ops } = given;
      for (let q = 0; q < ops.length; q++) {
        const k = q * 4;
        visitor.immediate(known[k], known[k + 1], known[k + 2], known[k + 3], ops[q]);
      }
      found = 0;
      refs[f - importedFunctions] = known;
      continue;
    }
    const body = bodies[f - importedFunctions];
    found = 0;
    decodeInstructions(body.body, 0, body.body.length, true, visitor, Math.max(0, body.offset));
    refs[f - importedFunctions] = arena.subarray(bodyStart, bodyStart + found);
    bodyStart += found;
    found = 0;
  }
  return {
    functionCount,
    importedFunctions,
    functions,
    called,
    globals,
    tables,
    elements,
    importedGlobals,
    importedTables,
    refs,
    typedReferences,
    segments,
    bodies: options.bodies,
    reason: (f) => reasonText(f) ?? "unreachable",
  };
}

/** The function index of a `ref.func` constant expression. */
function refFuncIndex(expr: Uint8Array): number {
  let v = 0, shift = 0, pos = 1, b;
  do {
    b = expr[pos++];
    v |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  return v >>> 0;
}
