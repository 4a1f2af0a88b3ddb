/**
 * The body of the helper `externref-batch` generates per table: same operands and result as
 * `table.grow`, slots handed out from a reserve that grows in batches.
 * @module
 */
import { ByteWriter } from "../wasm/bytes.ts";

/** Where the helper of one table lives and how it batches. */
export interface HelperPlan {
  /** The table's index. */
  table: number;
  /** True for a table64 table (i64 deltas and results). */
  is64: boolean;
  /** Type index of `(param externref i32|i64) (result i32|i64)`. */
  type: number;
  /** Function index of the helper. */
  func: number;
  /** Global index of the reserve's first unhanded slot. */
  start: number;
  /** Global index of the reserve's end (the table size after the helper's last grow). */
  end: number;
  /** Global index of an i32 flag: every reserve slot not yet handed out holds null. */
  nullReserve: number;
  strategy: "geometric" | number;
  max?: number;
}

/** Smallest geometric batch, as wasm-bindgen's allocator uses. */
export const MIN_BATCH = 128;

// Locals: 0 init (externref), 1 delta, then these.
const AVAIL = 2;
const SIZE = 3;
const NEED = 4;
const BY = 5;
const OLD = 6;
const R = 7;

/**
 * Encodes the helper's body:
 *
 * - delta 0 returns `table.size`, exactly what `table.grow` with delta 0 returns;
 * - a request the reserve covers takes the reserve's first `delta` slots and writes the init
 *   value into them, unless both are null (the common case: no call into the engine at all);
 * - when the table size is no longer the reserve's end, other code (JS on an imported or
 *   exported table, another module) grew it: the rest of the reserve is left where it is and
 *   the reserve starts anew at the end, so no range overlaps slots others grew;
 * - otherwise it grows by max(batch, shortfall); when that fails, by the shortfall alone, and
 *   returns -1 only when that fails too — with the reserve at the end of the table, that is
 *   exactly when the plain `table.grow` would have failed (same final size).
 */
export function helperBody(p: HelperPlan): Uint8Array {
  const w = new ByteWriter();
  const I = p.is64
    ? {
      t: 0x7e,
      eqz: 0x50,
      eq: 0x51,
      ne: 0x52,
      ltU: 0x54,
      gtU: 0x56,
      leU: 0x58,
      add: 0x7c,
      sub: 0x7d,
    }
    : {
      t: 0x7f,
      eqz: 0x45,
      eq: 0x46,
      ne: 0x47,
      ltU: 0x49,
      gtU: 0x4b,
      leU: 0x4d,
      add: 0x6a,
      sub: 0x6b,
    };
  const konst = (v: number) => p.is64 ? w.byte(0x42).s64(BigInt(v)) : w.byte(0x41).s32(v);
  const get = (l: number) => w.byte(0x20).u32(l);
  const set = (l: number) => w.byte(0x21).u32(l);
  const tee = (l: number) => w.byte(0x22).u32(l);
  const gget = (g: number) => w.byte(0x23).u32(g);
  const gset = (g: number) => w.byte(0x24).u32(g);
  const table = (sub: number) => w.byte(0xfc).u32(sub).u32(p.table);
  const op = (code: number) => w.byte(code);
  const ifThen = (body: () => void) => {
    w.byte(0x04).byte(0x40);
    body();
    w.byte(0x0b);
  };
  /**
   * Writes the init value into `count` slots from R, unless the reserve holds only nulls and the
   * init value is null; one slot is a `table.set`, more a `table.fill`.
   */
  const write = (count: () => void) => {
    gget(p.nullReserve);
    get(0);
    op(0xd1); // ref.is_null
    op(0x71); // i32.and
    op(0x45); // i32.eqz
    ifThen(() => {
      count();
      konst(1);
      op(I.eq);
      w.byte(0x04).byte(0x40);
      get(R);
      get(0);
      w.byte(0x26).u32(p.table); // table.set
      w.byte(0x05); // else
      get(R);
      get(0);
      count();
      table(17);
      w.byte(0x0b);
    });
  };
  /** Leaves max(a, b) (unsigned) on the stack: select(a, b, a > b). */
  const max = (a: () => void, b: () => void) => {
    a();
    b();
    a();
    b();
    op(I.gtU);
    op(0x1b);
  };

  w.u32(1).u32(6).byte(I.t); // six locals of the index type

  // delta 0: the size, as table.grow would return it
  get(1);
  op(I.eqz);
  ifThen(() => {
    table(16);
    op(0x0f);
  });
  // avail = end - start
  gget(p.end);
  gget(p.start);
  op(I.sub);
  set(AVAIL);
  // the reserve covers it
  get(1);
  get(AVAIL);
  op(I.leU);
  ifThen(() => {
    gget(p.start);
    set(R);
    get(R);
    get(1);
    op(I.add);
    gset(p.start);
    write(() => get(1));
    get(R);
    op(0x0f);
  });
  // someone else grew the table: start a new reserve at its end
  table(16);
  set(SIZE);
  get(SIZE);
  gget(p.end);
  op(I.ne);
  ifThen(() => {
    get(SIZE);
    gset(p.start);
    get(SIZE);
    gset(p.end);
    konst(0);
    set(AVAIL);
  });
  // need = delta - avail; by = max(batch, need)
  get(1);
  get(AVAIL);
  op(I.sub);
  set(NEED);
  if (p.strategy === "geometric") {
    max(() => konst(MIN_BATCH), () => get(SIZE));
    if (p.max !== undefined) {
      set(BY);
      // min(by, max) = select(by, max, by < max)
      get(BY);
      konst(p.max);
      get(BY);
      konst(p.max);
      op(I.ltU);
      op(0x1b);
    }
  } else {
    konst(Math.min(p.strategy, p.max ?? p.strategy));
  }
  set(BY);
  max(() => get(BY), () => get(NEED));
  set(BY);
  // grow by the batch; on failure by the shortfall alone; -1 when that fails too
  const grow = () => {
    get(0);
    get(BY);
    table(15);
    tee(OLD);
    konst(-1);
    op(I.eq);
  };
  grow();
  ifThen(() => {
    get(BY);
    get(NEED);
    op(I.eq);
    ifThen(() => {
      konst(-1);
      op(0x0f);
    });
    get(NEED);
    set(BY);
    grow();
    ifThen(() => {
      konst(-1);
      op(0x0f);
    });
  });
  get(OLD);
  get(BY);
  op(I.add);
  gset(p.end);
  gget(p.start);
  set(R);
  get(R);
  get(1);
  op(I.add);
  gset(p.start);
  // slots taken from the old reserve may hold another init value; new ones hold this one
  get(AVAIL);
  op(I.eqz);
  op(0x45); // i32.eqz of the eqz: avail != 0
  ifThen(() => write(() => get(AVAIL)));
  // what is left of the reserve now comes from this grow, so it holds this init value
  get(0);
  op(0xd1); // ref.is_null
  gset(p.nullReserve);
  get(R);
  w.byte(0x0b);
  return w.finish();
}
