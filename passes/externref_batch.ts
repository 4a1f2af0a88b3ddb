/**
 * Pass `externref-batch`: every `table.grow` on an externref table becomes a call to a generated
 * helper that hands out slots from a reserve and grows the physical table in batches.
 *
 * The rewrite works on the code bytes: `table.grow $t` and `call $helper` take the same operands
 * (init value, delta) and give the same result (first new slot, or -1), so each site is swapped
 * in place and nothing else in the module changes. Modules without such sites come back byte for
 * byte, with no IR round trip.
 * @module
 */
import { decodeInstructions, Imm } from "../wasm/instructions.ts";
import { ByteReader, ByteWriter } from "../wasm/bytes.ts";
import { appendToNameMap, readNames } from "../wasm/custom.ts";
import { encodeU32 } from "../wasm/leb128.ts";
import { SectionId, type WasmModule } from "../wasm/module.ts";
import {
  readCode,
  readExports,
  readFunctions,
  readGlobals,
  readImports,
  readTables,
  readTypes,
  type TableType,
  valType,
} from "../wasm/types.ts";
import { helperBody, type HelperPlan, MIN_BATCH } from "./_externref_helper.ts";
import { CodeRuns, Out } from "./_out.ts";
import type { PassReport } from "./types.ts";
import {
  custom,
  definePass,
  flag,
  integer,
  type OptionSpec,
  type PassFactory,
  type PassInput,
  string,
  type WithDefault,
} from "./define.ts";
import { UsageError } from "../errors.ts";

/** The options of {@linkcode externrefBatch}, as its definition declares them. */
export interface ExternrefBatchSchema extends Record<string, OptionSpec> {
  /** `geometric` or a fixed number of slots per batch. */
  strategy: WithDefault<"geometric" | number>;
  /** The most slots one batch adds. */
  max: OptionSpec<number>;
  /** Only this table (by name or index). */
  table: OptionSpec<string>;
  /** Only sites with a constant delta. */
  constantOnly: WithDefault<boolean>;
  /** Export the helper under this name. */
  exportHelper: OptionSpec<string>;
}

/**
 * The `externref-batch` pass.
 *
 * @example Batch by 1024 slots
 * ```ts
 * import assert from "node:assert";
 * import { externrefBatch } from "./externref_batch.ts";
 * const pass = externrefBatch({ strategy: 1024 });
 * assert.strictEqual(pass.name, "externref-batch");
 * assert.throws(() => externrefBatch({ strategy: 0 }), /"geometric" or a whole number/);
 * ```
 */
export const externrefBatch: PassFactory<ExternrefBatchSchema> = definePass<ExternrefBatchSchema>({
  name: "externref-batch",
  description: "grow externref tables in batches behind a reserve (same contract for callers)",
  level: "sections",
  main: "strategy",
  options: {
    strategy: custom({
      help: `"geometric" (max(${MIN_BATCH}, size), like wasm-bindgen) or a fixed number of slots`,
      value: "strategy",
      default: "geometric" as const,
      parse(raw: unknown): "geometric" | number {
        if (raw === "geometric") return "geometric";
        const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
        if (typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 0x7fffffff) return n;
        throw new RangeError(
          `${JSON.stringify(raw)} is not "geometric" or a whole number of slots from 1`,
        );
      },
    }),
    max: integer({
      help: "largest batch one physical grow may add",
      min: 1,
      flag: "externref-max",
    }),
    table: string({
      help: "only this table (name-section name, import module/name, or export)",
      value: "name",
      flag: "externref-table",
    }),
    callAlways: flag({
      help: "call the helper at every site instead of the inline fast path (reserve check and " +
        "bump at the site, the helper only when the reserve is short)",
      flag: "externref-call-always",
    }),
    constantOnly: flag({
      help: "rewrite only sites whose delta is a constant",
      flag: "externref-constant-only",
    }),
    exportHelper: string({
      help: "export the generated helper under this name",
      value: "name",
      flag: "externref-export",
    }),
  },
  // The helper and the inline fast path use reference-types instructions (table.size,
  // table.fill, table.set, ref.is_null) only in modules that already grow an externref table.
  create: (options) => ({
    run: (module, ctx) => rewrite(module, options, ctx.warn),
    preservesFeatures: true,
  }),
});

/** Options of {@linkcode externrefBatch}. */
export type ExternrefBatchOptions = PassInput<typeof externrefBatch.definition.options>;

/** The checked options the rewrite works with. */
interface Settings {
  strategy: "geometric" | number;
  max?: number;
  table?: string;
  constantOnly: boolean;
  callAlways?: boolean;
  exportHelper?: string;
}

interface TableInfo {
  index: number;
  type: TableType;
  names: string[];
}

function listTables(m: WasmModule): TableInfo[] {
  const names = readNames(m, ["tables"])?.tables ?? new Map<number, string>();
  const out: TableInfo[] = [];
  for (const i of readImports(m)) {
    if (i.kind !== "table") continue;
    out.push({ index: out.length, type: i.table, names: [`${i.module}/${i.name}`, i.name] });
  }
  for (const t of readTables(m)) out.push({ index: out.length, type: t, names: [] });
  for (const e of readExports(m)) if (e.kind === "table") out[e.index]?.names.push(e.name);
  for (const [i, n] of names) out[i]?.names.unshift(n);
  return out;
}

const isExternref = (t: TableType) =>
  t.element === "externref" || t.element === "(ref null extern)";

function rewrite(
  m: WasmModule,
  o: Settings,
  warn: (message: string) => void,
): PassReport {
  const tables = listTables(m);
  let targets = tables.filter((t) => isExternref(t.type));
  if (o.table !== undefined) {
    const named = tables.find((t) => t.names.includes(o.table!));
    if (!named) {
      const known = tables.map((t) => t.names[0] ?? `#${t.index}`).join(", ") || "none";
      throw new UsageError(
        `No table named "${o.table}" (tables: ${known}); pass one of those to --externref-table`,
      );
    }
    if (!isExternref(named.type)) {
      throw new UsageError(
        `Table "${o.table}" holds ${named.type.element}, not externref; batching applies to externref tables`,
      );
    }
    targets = [named];
  }
  if (targets.length === 0) return { skipped: "no externref table: the module is unchanged" };
  if (m.isRelocatable) {
    throw new UsageError(
      "externref-batch works on linked modules, not relocatable objects (code offsets would break reloc.CODE); run it after linking",
    );
  }
  const targetIndex = new Set(targets.map((t) => t.index));
  const code = readCode(m);
  // Sites per table; and table.size uses that will now count the reserve too.
  const sites = new Map<number, { func: number; start: number; end: number }[]>();
  let sizeUses = 0;
  let skippedVariable = 0;
  code.forEach((f, func) => {
    let found: TableUse[];
    try {
      found = tableUses(f.body, Math.max(0, f.offset));
    } catch (e) {
      throw new UsageError(
        `Cannot scan the body of function ${func} (defined): ${
          (e as Error).message
        }; the module is left unchanged`,
      );
    }
    for (const use of found) {
      if (!targetIndex.has(use.table)) continue;
      if (!use.grow) {
        sizeUses++;
        continue;
      }
      const is64 = tables[use.table].type.limits.is64;
      if (o.constantOnly && (use.previous < 0 || f.body[use.previous] !== (is64 ? 0x42 : 0x41))) {
        skippedVariable++;
        continue;
      }
      const list = sites.get(use.table) ?? [];
      list.push({ func, start: use.start, end: use.end });
      sites.set(use.table, list);
    }
  });
  const report: PassReport = {
    strategy: o.strategy ?? "geometric",
    max: o.max ?? null,
    tables: targets.map((t) => ({
      index: t.index,
      name: t.names[0] ?? null,
      table64: t.type.limits.is64,
      sites: sites.get(t.index)?.length ?? 0,
    })),
  };
  if (skippedVariable) report.variableSitesLeft = skippedVariable;
  if (sites.size === 0) {
    return { ...report, skipped: "no table.grow on an externref table: the module is unchanged" };
  }
  if (sizeUses) {
    warn(`${sizeUses} table.size use(s) on a batched table now count the unused reserve too`);
  }

  // New items: one helper function, one type and three globals (reserve start, reserve end,
  // reserve-is-null flag) per table with sites.
  const types = readTypes(m);
  const imports = readImports(m);
  const importedFuncs = imports.filter((i) => i.kind === "func").length;
  const importedGlobals = imports.filter((i) => i.kind === "global").length;
  const functions = readFunctions(m);
  const globals = readGlobals(m);
  const plans: HelperPlan[] = [];
  for (const t of [...sites.keys()].sort((a, b) => a - b)) {
    const is64 = tables[t].type.limits.is64;
    plans.push({
      table: t,
      is64,
      type: types.length + plans.length,
      func: importedFuncs + functions.length + plans.length,
      start: importedGlobals + globals.length + 3 * plans.length,
      end: importedGlobals + globals.length + 3 * plans.length + 1,
      nullReserve: importedGlobals + globals.length + 3 * plans.length + 2,
      strategy: o.strategy ?? "geometric",
      max: o.max,
    });
  }
  const helperOf = new Map(plans.map((p) => [p.table, p]));

  // Code: swap each site for the inline fast path (or a call); append the helpers.
  const bySite = new Map<number, { start: number; end: number; plan: HelperPlan }[]>();
  for (const [t, list] of sites) {
    for (const s of list) {
      const l = bySite.get(s.func) ?? [];
      l.push({ start: s.start, end: s.end, plan: helperOf.get(t)! });
      bySite.set(s.func, l);
    }
  }
  // Bodies without sites go as runs of the payload's bytes (size prefixes included), into one
  // buffer sized for the code: a large module is copied once, not body by body.
  const payload = m.section(SectionId.code)!.payload;
  const codeOut = new Out(payload.length + 1024);
  const runs = new CodeRuns(codeOut, payload, code, code.length + plans.length);
  code.forEach((f, i) => {
    const patches = (bySite.get(i) ?? []).sort((a, b) => a.start - b.start);
    if (!patches.length) return;
    runs.skip(i);
    const body = new ByteWriter();
    let pos = 0;
    let locals: number | undefined;
    if (!o.callAlways) {
      // Three scratch locals (externref, i32, i64) after the function's own.
      const t = types[functions[i]];
      const params = t?.kind === "func" ? t.params.length : 0;
      const { count, end } = readLocals(f.body);
      locals = params + count;
      const groups = new ByteReader(f.body).u32();
      body.u32(groups + 3).bytes(f.body.subarray(encodeU32(groups).length, end));
      body.u32(1).byte(0x6f).u32(1).byte(0x7f).u32(1).byte(0x7e);
      pos = end;
    }
    // Instruction starts, to recognise `ref.null extern; <local.get or const>; table.grow`.
    const starts: number[] = [];
    if (locals !== undefined) {
      decodeInstructions(f.body, 0, f.body.length, true, {
        instruction: (_op, _sub, start) => void starts.push(start),
      });
    }
    for (const p of patches) {
      let siteStart = p.start;
      let simple: Uint8Array | undefined;
      if (locals !== undefined) {
        const k = starts.indexOf(p.start);
        const [a, b] = [starts[k - 2], starts[k - 1]];
        const delta = p.plan.is64 ? 0x42 : 0x41;
        if (
          k >= 2 && a >= pos && f.body[a] === 0xd0 && f.body[a + 1] === 0x6f && b === a + 2 &&
          (f.body[b] === 0x20 || f.body[b] === delta)
        ) {
          // a null init and a delta read by one pure instruction: no scratch locals needed
          simple = inlineNullGrow(p.plan, f.body.subarray(b, p.start));
          siteStart = a;
        }
      }
      body.bytes(f.body.subarray(pos, siteStart));
      if (locals === undefined) body.byte(0x10).u32(p.plan.func);
      else body.bytes(simple ?? inlineGrow(p.plan, locals));
      pos = p.end;
    }
    const patched = body.bytes(f.body.subarray(pos)).finish();
    codeOut.u32(patched.length);
    codeOut.copy(patched);
  });
  runs.finish();
  for (const p of plans) {
    const helper = helperBody(p);
    codeOut.u32(helper.length);
    codeOut.copy(helper);
  }
  m.setSection(SectionId.code, codeOut.result());

  appendToVector(m, SectionId.type, plans.map((p) => helperType(p.is64)));
  appendToVector(m, SectionId.function, plans.map((p) => encodeU32(p.type)));
  appendToVector(
    m,
    SectionId.global,
    plans.flatMap((p) => [globalZero(p.is64), globalZero(p.is64), globalZero(false)]),
  );
  if (o.exportHelper) {
    appendToVector(
      m,
      SectionId.export,
      plans.map((p) =>
        new ByteWriter().name(plans.length > 1 ? `${o.exportHelper}_${p.table}` : o.exportHelper!)
          .byte(0).u32(p.func).finish()
      ),
    );
  }
  nameHelpers(m, plans, tables);
  return {
    ...report,
    sitesRewritten: [...sites.values()].reduce((n, l) => n + l.length, 0),
    inline: !o.callAlways,
    helpers: plans.map((p) => ({
      table: p.table,
      function: p.func,
      globals: [p.start, p.end, p.nullReserve],
    })),
  };
}

/** A `table.grow` (or `table.size`) in a body: its table, where it is, the instruction before. */
interface TableUse {
  grow: boolean;
  table: number;
  /** Offsets of the instruction in the body: its opcode, and the end of its table index. */
  start: number;
  end: number;
  /** Offset of the instruction before it, or -1. */
  previous: number;
}

/**
 * The `table.grow` and `table.size` instructions of a body. A body without a `0xfc` byte followed
 * by sub-opcode 15 or 16 (even padded) has none and is not decoded, so a large module costs a
 * byte scan; the others are decoded (any instruction set: GC code too) with no object per
 * instruction.
 */
function tableUses(body: Uint8Array, offset: number): TableUse[] {
  let candidate = false;
  for (let i = body.indexOf(0xfc); i >= 0 && i + 1 < body.length; i = body.indexOf(0xfc, i + 1)) {
    const sub = body[i + 1] & 0x7f;
    if (sub === 15 || sub === 16) {
      candidate = true;
      break;
    }
  }
  if (!candidate) return [];
  const uses: TableUse[] = [];
  let previous = -1;
  let table = -1;
  let tableEnd = 0;
  decodeInstructions(body, 0, body.length, true, {
    kinds: 1 << Imm.table,
    immediate(_kind, value, at, length) {
      table = value;
      tableEnd = at + length;
    },
    instruction(op, sub, start) {
      if (op === 0xfc && (sub === 15 || sub === 16)) {
        uses.push({ grow: sub === 15, table, start, end: tableEnd, previous });
      }
      previous = start;
    },
  }, offset);
  return uses;
}

/** The number of locals a body declares, and where its instructions start. */
function readLocals(body: Uint8Array): { count: number; end: number } {
  const r = new ByteReader(body);
  let count = 0;
  r.vec(() => {
    count += r.u32();
    valType(r);
  });
  return { count, end: r.pos };
}

/**
 * The inline fast path replacing one `table.grow` (stack: init, delta → first slot or -1), with
 * scratch locals `base` (externref), `base + 1` (i32), `base + 2` (i64): when the delta is not 0,
 * fits in the reserve, the init value is null and so are the reserve's slots, the slots are
 * handed out by bumping the reserve's start; otherwise the helper runs, with the same operands.
 */
export function inlineGrow(p: HelperPlan, base: number): Uint8Array {
  const v = base;
  const d = p.is64 ? base + 2 : base + 1;
  const w = new ByteWriter();
  const one = () => p.is64 ? w.byte(0x42).byte(1) : w.byte(0x41).byte(1);
  const sub = p.is64 ? 0x7d : 0x6b;
  w.byte(0x21).u32(d).byte(0x21).u32(v); // local.set d; local.set v
  w.byte(0x20).u32(d);
  one();
  w.byte(sub); // d - 1
  w.byte(0x23).u32(p.end).byte(0x23).u32(p.start).byte(sub); // end - start
  w.byte(p.is64 ? 0x54 : 0x49); // lt_u: d != 0 && d <= avail
  w.byte(0x23).u32(p.nullReserve).byte(0x71); // and the reserve holds nulls
  w.byte(0x20).u32(v).byte(0xd1).byte(0x71); // and the init value is null
  w.byte(0x04).byte(p.is64 ? 0x7e : 0x7f); // if (result index type)
  w.byte(0x23).u32(p.start); // the first slot
  w.byte(0x23).u32(p.start).byte(0x20).u32(d).byte(p.is64 ? 0x7c : 0x6a).byte(0x24).u32(p.start);
  w.byte(0x05); // else
  w.byte(0x20).u32(v).byte(0x20).u32(d).byte(0x10).u32(p.func);
  w.byte(0x0b);
  return w.finish();
}

/**
 * The fast path for the common site `ref.null extern; <delta>; table.grow`, where `<delta>` is
 * one pure instruction (`local.get` or a constant), re-read instead of kept in a local.
 */
export function inlineNullGrow(p: HelperPlan, delta: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  const sub = p.is64 ? 0x7d : 0x6b;
  w.bytes(delta);
  if (p.is64) w.byte(0x42).byte(1);
  else w.byte(0x41).byte(1);
  w.byte(sub); // delta - 1
  w.byte(0x23).u32(p.end).byte(0x23).u32(p.start).byte(sub); // end - start
  w.byte(p.is64 ? 0x54 : 0x49); // lt_u: delta != 0 && delta <= avail
  w.byte(0x23).u32(p.nullReserve).byte(0x71); // and the reserve holds nulls
  w.byte(0x04).byte(p.is64 ? 0x7e : 0x7f);
  w.byte(0x23).u32(p.start);
  w.byte(0x23).u32(p.start).bytes(delta).byte(p.is64 ? 0x7c : 0x6a).byte(0x24).u32(p.start);
  w.byte(0x05);
  w.byte(0xd0).byte(0x6f).bytes(delta).byte(0x10).u32(p.func);
  w.byte(0x0b);
  return w.finish();
}

/** Appends encoded entries to a vector section (creating the section when absent). */
function appendToVector(m: WasmModule, id: number, entries: Uint8Array[]): void {
  const s = m.section(id);
  let count = 0;
  let rest: Uint8Array = new Uint8Array(0);
  if (s) {
    const r = new ByteReader(s.payload);
    count = r.u32();
    rest = s.payload.subarray(r.pos);
  }
  const w = new ByteWriter().u32(count + entries.length).bytes(rest);
  for (const e of entries) w.bytes(e);
  m.setSection(id, w.finish());
}

function helperType(is64: boolean): Uint8Array {
  const index = is64 ? 0x7e : 0x7f;
  return new Uint8Array([0x60, 2, 0x6f, index, 1, index]);
}

function globalZero(is64: boolean): Uint8Array {
  return new Uint8Array(is64 ? [0x7e, 1, 0x42, 0, 0x0b] : [0x7f, 1, 0x41, 0, 0x0b]);
}

/**
 * Names the helpers and their globals in the name section, when the module has names: appended to
 * the function and global name maps (their indices come after all others), nothing re-encoded.
 */
function nameHelpers(m: WasmModule, plans: HelperPlan[], tables: TableInfo[]): void {
  const section = m.section("name");
  if (!section) return;
  const label = (p: HelperPlan) => tables[p.table].names[0] ?? `table${p.table}`;
  const added = new Map<number, Map<number, string>>([[1, new Map()], [7, new Map()]]);
  for (const p of plans) {
    added.get(1)!.set(p.func, `linkpass:externref_batch_grow<${label(p)}>`);
    added.get(7)!.set(p.start, `linkpass:externref_reserve_start<${label(p)}>`);
    added.get(7)!.set(p.end, `linkpass:externref_reserve_end<${label(p)}>`);
    added.get(7)!.set(p.nullReserve, `linkpass:externref_reserve_null<${label(p)}>`);
  }
  const r = m.reader(section);
  const out = new ByteWriter();
  const emit = (id: number, payload?: Uint8Array) => {
    out.bytes(appendToNameMap(id, payload, added.get(id)!));
    added.delete(id);
  };
  while (!r.done) {
    const start = r.pos;
    const id = r.u8();
    const size = r.u32();
    const payload = r.take(size);
    // subsections ascend by id: the maps added go before a later id
    for (const a of [...added.keys()]) if (a < id) emit(a);
    if (added.has(id)) emit(id, payload);
    else out.bytes(section.payload.subarray(start, r.pos));
  }
  for (const a of [...added.keys()]) emit(a);
  m.setPayload(section, out.finish());
}
