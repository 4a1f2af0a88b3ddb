/**
 * The byte engine of the `panic` pass (trap mode): root bodies and call sites are rewritten on
 * the code bytes, without binaryen. A root's body becomes `unreachable`; a call to a root becomes
 * `unreachable` too (its operands are still evaluated, then the trap the root would have hit
 * happens), dropping the operands that are plain constants or local/global reads, and the code
 * after it up to the end of its block, which can no longer run. Then `dce` removes what nothing
 * reaches any more, and {@linkcode compactImmediates} drops the LEB padding the linker left in the
 * code that stays. Bodies without calls to roots are copied as bytes.
 * @module
 */
import { decodeInstructions, Imm } from "../wasm/instructions.ts";
import { SectionId, type WasmModule } from "../wasm/module.ts";
import { readCode, readFunctions, readImports, readTypes } from "../wasm/types.ts";
import { CodeRuns, Out } from "./_out.ts";
import type { RewrittenBody } from "../wasm/reach.ts";

/**
 * Why a body may return normally, or undefined when it provably never does. A call to a function
 * of `neverReturns` ends the code after it, as `unreachable` does.
 */
export function whyBodyMayReturn(
  body: Uint8Array,
  neverReturns?: ReadonlySet<number>,
): string | undefined {
  // One frame per open block: its kind and whether the code after it is reachable.
  const kinds: number[] = [0]; // 0 = function, 1 = block/try/if with else, 2 = loop, 3 = if
  const reachable: boolean[] = [true];
  /** Frames a branch targets: their end is reachable (loops: their start). */
  const targeted: boolean[] = [false];
  let why: string | undefined;
  let opaque = false;
  let labelDepths: number[] = [];
  let callee = -1;
  decodeInstructions(body, 0, body.length, true, {
    immediate(kind, value, _at, _length, op) {
      if (kind === Imm.label) labelDepths.push(value);
      else if (kind === Imm.func && op === 0x10) callee = value;
    },
    instruction(op) {
      const top = kinds.length - 1;
      const live = reachable[top];
      if (live) {
        for (const d of labelDepths) {
          const target = top - d;
          if (target >= 0) targeted[target] = true;
        }
      }
      labelDepths = [];
      switch (op) {
        case 0x02:
        case 0x04:
        case 0x06:
        case 0x1f:
          kinds.push(op === 0x04 ? 3 : 1);
          reachable.push(live);
          targeted.push(false);
          return;
        case 0x03:
          kinds.push(2);
          reachable.push(live);
          targeted.push(false);
          return;
        case 0x05: // else: the other arm starts live when the if was entered live
        case 0x07: // catch
        case 0x19: // catch_all
          // the arm that ended falls through to the end when it was live
          if (live) targeted[top] = true;
          if (op === 0x05) kinds[top] = 1;
          reachable[top] = top > 0 ? reachable[top - 1] : true;
          return;
        case 0x0b:
        case 0x18: { // end, delegate
          if (kinds.length === 1) {
            if (live || targeted[0]) why ??= "its body can complete normally";
            kinds.pop();
            return;
          }
          // an if without else falls through when the condition is false
          const endLive = (kinds[top] !== 2 && targeted[top]) || live ||
            (kinds[top] === 3 && reachable[top - 1]);
          kinds.pop();
          reachable.pop();
          targeted.pop();
          reachable[top - 1] = reachable[top - 1] && endLive;
          return;
        }
        case 0x0f:
          if (live) why ??= "its body contains a return";
          reachable[top] = false;
          return;
        case 0x12:
        case 0x13:
        case 0x15:
          if (live) why ??= "its body contains a tail call";
          reachable[top] = false;
          return;
        case 0x10:
          if (neverReturns?.has(callee)) reachable[top] = false;
          return;
        case 0x00:
        case 0x08:
        case 0x09:
        case 0x0a:
        case 0x0c:
        case 0x0e:
          reachable[top] = false;
          return;
        case 0xd5:
        case 0xd6:
        case 0xfb:
          opaque = true;
      }
    },
  });
  if (!why && opaque) why = "its body has instructions this pass cannot inspect";
  return why;
}

/** What the rewrite did and saw. */
export interface ByteRewrite {
  /** Calls to trapping roots turned into `unreachable`. */
  callSitesRewritten: number;
  /** Per root (function index): constant i32 operands of its call sites, by parameter index. */
  sites: Map<number, { count: number; constants: Map<number, number[]> }>;
  /**
   * Constant i32 values the code still uses after the rewrite (see {@linkcode codeConstants}):
   * fill it once the dead code is gone.
   */
  otherConstants: ValueSet;
  /** Per root: constants its own body passes last to other roots (LTO-specialized roots). */
  innerConstants: Map<number, Set<number>>;
}

/** Opcode classes, one bit each in {@linkcode OPCODE_CLASS} (a table lookup on the hot path). */
const PURE = 1, OPENS = 2, NEVER_FALLS_THROUGH = 4;
const OPCODE_CLASS = new Uint8Array(256);
/** Operands with no side effects, which a trapping call's rewrite may drop. */
for (const op of [0x20, 0x23, 0x41, 0x42, 0x43, 0x44, 0xd0, 0xd2]) OPCODE_CLASS[op] |= PURE;
/** Instructions that open a block. */
for (const op of [0x02, 0x03, 0x04, 0x06, 0x1f]) OPCODE_CLASS[op] |= OPENS;
/** Instructions after which the code up to the end of the block cannot run. */
for (const op of [0x00, 0x08, 0x09, 0x0a, 0x0c, 0x0e, 0x0f, 0x12, 0x13, 0x15]) {
  OPCODE_CLASS[op] |= NEVER_FALLS_THROUGH;
}

/** Reads the i32.const at `at` (a signed LEB after the opcode), as an unsigned value. */
function constAt(body: Uint8Array, at: number): number {
  let result = 0, shift = 0, b;
  let pos = at + 1;
  do {
    b = body[pos++];
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 35);
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  return result >>> 0;
}

/**
 * The instructions of one body, in typed arrays reused across bodies: opcode, start, end and
 * callee (-1 for other instructions). It is the decoder's visitor; the per-body steps are
 * methods, so that V8 optimizes each as a function instead of re-entering one long loop.
 */
class BodyRecords {
  cap = 1 << 14;
  ops = new Int32Array(this.cap);
  starts = new Int32Array(this.cap);
  ends = new Int32Array(this.cap);
  callees = new Int32Array(this.cap);
  /** Instructions recorded. */
  n = 0;
  /** The indices of the calls to roots among them. */
  rootCallAt = new Int32Array(1024);
  rootCalls = 0;
  /**
   * The edits `select` chose, in order, as (cut from, cut to, insert) triples of body offsets:
   * bytes [from, to) go, and `insert` 1 puts an `unreachable` in their place.
   */
  edits = new Int32Array(3 * 256);
  nEdits = 0;
  #callee = -1;
  /** With `withRefs`: the references reachability tracks, as (kind, value, at, length). */
  refs = new Int32Array(4 * 1024);
  /** The opcode of each reference's instruction. */
  refOps = new Uint8Array(1024);
  nRefs = 0;
  /** The immediates that reach `immediate`. */
  readonly kinds: number;

  /**
   * `rootParams[f]`: the parameter count of root `f`, -1 for other functions. With `withRefs`
   * the references of each body are recorded too (see {@linkcode BodyRecords.keptRefs}).
   */
  constructor(readonly rootParams: Int32Array, readonly withRefs = false) {
    this.kinds = withRefs ? REF_KINDS : 1 << Imm.func;
  }

  // The decoder calls these detached: arrow functions keep `this`.
  readonly immediate = (kind: number, value: number, at: number, len: number, op: number) => {
    if (this.withRefs) this.#ref(kind, value, at, len, op);
    if (op !== 0x10 || kind !== Imm.func) return;
    this.#callee = value;
    if (this.rootParams[value] >= 0) {
      // immediates come before their instruction's `instruction` call: it is instruction n
      if (this.rootCalls === this.rootCallAt.length) this.rootCallAt = grown(this.rootCallAt);
      this.rootCallAt[this.rootCalls++] = this.n;
    }
  };

  #ref(kind: number, value: number, at: number, len: number, op: number): void {
    if (this.nRefs === this.refOps.length) {
      this.refs = grown(this.refs);
      const ops = new Uint8Array(this.refOps.length * 2);
      ops.set(this.refOps);
      this.refOps = ops;
    }
    const k = this.nRefs++;
    this.refs[4 * k] = kind;
    this.refs[4 * k + 1] = value;
    this.refs[4 * k + 2] = at;
    this.refs[4 * k + 3] = len;
    this.refOps[k] = op;
  }

  readonly instruction = (op: number, _sub: number, start: number, end: number) => {
    if (this.n === this.cap) this.#grow();
    const n = this.n++;
    this.ops[n] = op;
    this.starts[n] = start;
    this.ends[n] = end;
    this.callees[n] = this.#callee;
    this.#callee = -1;
  };

  #grow(): void {
    this.cap *= 2;
    this.ops = grown(this.ops);
    this.starts = grown(this.starts);
    this.ends = grown(this.ends);
    this.callees = grown(this.callees);
  }

  /** Decodes `body` (at `offset` in the file, for messages) into the records. */
  decode(body: Uint8Array, offset: number): void {
    this.n = 0;
    this.nRefs = 0;
    this.rootCalls = 0;
    this.nEdits = 0;
    this.#callee = -1;
    decodeInstructions(body, 0, body.length, true, this, offset);
  }

  /**
   * Records the constant operands of the calls to roots in function `f`: per root and parameter
   * for calls from other functions, and the last operand for calls from a root's own body.
   */
  constants(body: Uint8Array, f: number, inRoot: boolean, result: ByteRewrite): void {
    const { ops, starts, callees, rootParams, rootCallAt } = this;
    for (let c = 0; c < this.rootCalls; c++) {
      const k = rootCallAt[c];
      const target = callees[k];
      const params = rootParams[target];
      if (inRoot) {
        // the last operand, when it is a constant
        if (params >= 1 && k >= 1 && ops[k - 1] === 0x41) {
          const set = result.innerConstants.get(f) ?? new Set();
          result.innerConstants.set(f, set.add(constAt(body, starts[k - 1])));
        }
        continue;
      }
      let s = result.sites.get(target);
      if (!s) result.sites.set(target, s = { count: 0, constants: new Map() });
      s.count++;
      // The operands are the pure producers right before the call, last parameter first.
      for (let j = 1; j <= params && k - j >= 0 && OPCODE_CLASS[ops[k - j]] & PURE; j++) {
        if (ops[k - j] !== 0x41) continue;
        const c = constAt(body, starts[k - j]);
        const list = s.constants.get(params - j);
        if (list) list.push(c);
        else s.constants.set(params - j, [c]);
      }
    }
  }

  /**
   * Chooses the edits: a call to a root becomes `unreachable` (its pure operands dropped), and the
   * code after it, or after any instruction that never falls through, goes up to the end (or
   * else/catch/delegate) of its block. Returns the calls rewritten. `bodyLength` is where the
   * code ends when no block end follows (only in malformed code).
   */
  select(bodyLength: number): number {
    const { ops, starts, ends, callees, rootParams } = this;
    const n = this.n;
    let rewritten = 0;
    /** The first instruction a cut may reach back to: the one after the previous cut. */
    let low = 0;
    let k = 0;
    while (k < n) {
      const op = ops[k];
      const trapsHere = op === 0x10 && rootParams[callees[k]] >= 0;
      if (!trapsHere && !(OPCODE_CLASS[op] & NEVER_FALLS_THROUGH)) {
        k++;
        continue;
      }
      let from: number;
      if (trapsHere) {
        rewritten++;
        let first = k;
        let params = rootParams[callees[k]];
        while (params > 0 && first > low && OPCODE_CLASS[ops[first - 1]] & PURE) {
          first--;
          params--;
        }
        from = starts[first];
      } else from = ends[k];
      const j = this.#blockEnd(k + 1);
      this.#edit(from, j < n ? starts[j] : bodyLength, trapsHere ? 1 : 0);
      low = j;
      k = j;
    }
    return rewritten;
  }

  #edit(from: number, to: number, insert: number): void {
    if (from === to && insert === 0) return;
    if (3 * (this.nEdits + 1) > this.edits.length) this.edits = grown(this.edits);
    const e = 3 * this.nEdits++;
    this.edits[e] = from;
    this.edits[e + 1] = to;
    this.edits[e + 2] = insert;
  }

  /** The first instruction from `k` on that ends (or else/catch/delegate) the current block. */
  #blockEnd(k: number): number {
    const { ops } = this;
    let depth = 0;
    for (; k < this.n; k++) {
      const op = ops[k];
      if (OPCODE_CLASS[op] & OPENS) depth++;
      else if (op === 0x0b || op === 0x18) {
        // `end`, or `delegate`, which ends a legacy `try` instead of `end`
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && (op === 0x05 || op === 0x07 || op === 0x19)) {
        break;
      }
    }
    return k;
  }

  /**
   * The references outside the cuts, at their places in the body `write` writes (the layout
   * `reach` keeps; see `RewrittenBody`). References come in body order, as the edits do.
   */
  keptRefs(): { refs: Int32Array; ops: Uint8Array } {
    const { edits, refs: all } = this;
    const keep = new Uint8Array(this.nRefs);
    const at = new Int32Array(this.nRefs);
    let kept = 0;
    let shift = 0; // bytes removed minus bytes inserted before the current position
    let e = 0;
    for (let q = 0; q < this.nRefs; q++) {
      const pos = all[4 * q + 2];
      while (e < this.nEdits && edits[3 * e + 1] <= pos) {
        shift += edits[3 * e + 1] - edits[3 * e] - edits[3 * e + 2];
        e++;
      }
      if (e < this.nEdits && pos >= edits[3 * e]) continue; // inside a cut
      keep[q] = 1;
      at[q] = pos - shift;
      kept++;
    }
    const refs = new Int32Array(4 * kept);
    const ops = new Uint8Array(kept);
    let r = 0;
    for (let q = 0; q < this.nRefs; q++) {
      if (!keep[q]) continue;
      refs[4 * r] = all[4 * q];
      refs[4 * r + 1] = all[4 * q + 1];
      refs[4 * r + 2] = at[q];
      refs[4 * r + 3] = all[4 * q + 3];
      ops[r] = this.refOps[q];
      r++;
    }
    return { refs, ops };
  }

  /**
   * Writes the body with the edits applied to `out` (size prefix first). `moved(from, length)`
   * hears where each run of kept `body` bytes went.
   */
  write(body: Uint8Array, out: Out, moved: (from: number, length: number) => void): void {
    const { edits } = this;
    let size = body.length;
    for (let e = 0; e < this.nEdits; e++) {
      size -= edits[3 * e + 1] - edits[3 * e] - edits[3 * e + 2];
    }
    out.u32(size);
    let pos = 0;
    for (let e = 0; e < this.nEdits; e++) {
      const from = edits[3 * e];
      if (from > pos) {
        moved(pos, from - pos);
        out.range(body, pos, from);
      }
      if (edits[3 * e + 2]) out.byte(0x00);
      pos = edits[3 * e + 1];
    }
    if (pos < body.length) {
      moved(pos, body.length - pos);
      out.range(body, pos, body.length);
    }
  }
}

/** A copy of `a` twice as long. */
function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * Rewrites the code section of `m` in place: each root's body becomes `unreachable`, each call to
 * a root in other bodies becomes `unreachable` (see the module doc). With `moves`, records where
 * kept bytes went as (old start, old end, new start) triples of code payload offsets, in order,
 * so that relocations can follow them.
 */
export function rewriteOnBytes(
  m: WasmModule,
  roots: Set<number>,
  moves?: number[],
): ByteRewrite {
  const payload = m.section(SectionId.code)!.payload;
  const out = new Out(payload.length);
  // Unchanged bodies go as raw runs, size prefixes included.
  const bodies = readCode(m);
  const runs = new CodeRuns(
    out,
    payload,
    bodies,
    bodies.length,
    moves && ((from, to, at) => moves.push(from, to, at)),
  );
  let changed = false;
  const rewrite = rewriteEach(m, roots, false, (body, records, i) => {
    runs.skip(i);
    changed = true;
    if (!records) {
      out.u32(ROOT_BODY.length);
      out.copy(ROOT_BODY);
      return;
    }
    const base = body.byteOffset - payload.byteOffset;
    records.write(body, out, (from, length) => {
      if (moves && length > 0) moves.push(base + from, base + from + length, out.len);
    });
  });
  runs.finish();
  if (changed) m.setSection(SectionId.code, out.result());
  return rewrite;
}

/**
 * The rewrite of {@linkcode rewriteOnBytes} for a linked module about to go through `dce`: the
 * code section stays as it is, and each body that changes comes back with its references
 * (`RewrittenBody`), for `eliminateDeadCode`'s `bodies` option. The bodies that change are
 * decoded once for both steps, and the code is written once, by `dce`.
 */
export function rewriteBodies(
  m: WasmModule,
  roots: Set<number>,
): { rewrite: ByteRewrite; bodies: Map<number, RewrittenBody> } {
  const rewritten = new Map<number, RewrittenBody>();
  // One buffer for all the rewritten bodies, each a view of it: a body never grows (a cut always
  // removes more than the `unreachable` it may insert), so the code's size is always enough.
  const out = new Out((m.section(SectionId.code)?.payload.length ?? 0) + 16);
  const none = () => {};
  const rewrite = rewriteEach(m, roots, true, (body, records, i) => {
    if (!records) {
      rewritten.set(i, { body: ROOT_BODY, refs: new Int32Array(0), ops: new Uint8Array(0) });
      return;
    }
    const start = out.len;
    records.write(body, out, none);
    // `write` puts the size first: the body is what follows it.
    let sizeEnd = start;
    while (out.buf[sizeEnd] & 0x80) sizeEnd++;
    rewritten.set(i, { body: out.buf.subarray(sizeEnd + 1, out.len), ...records.keptRefs() });
  });
  return { rewrite, bodies: rewritten };
}

/**
 * The walk both rewrites share: each body that changes, in order, goes to `visit` (defined
 * function index `i`) with its records once `select` chose the edits, or without records when it
 * is a root's (its body becomes `unreachable`). Bodies without a call to a root are not visited.
 */
function rewriteEach(
  m: WasmModule,
  roots: Set<number>,
  withRefs: boolean,
  visit: (body: Uint8Array, records: BodyRecords | undefined, i: number) => void,
): ByteRewrite {
  const { imported, bodies, rootParams, result } = prepare(m, roots);
  const records = new BodyRecords(rootParams, withRefs);
  for (let i = 0; i < bodies.length; i++) {
    const inRoot = rootParams[imported + i] >= 0;
    const body = bodies[i].body;
    // No `call` to a root anywhere in the bytes: unchanged, not decoded.
    if (!inRoot && !mayCallRoot(body, rootParams)) continue;
    records.decode(body, Math.max(0, bodies[i].offset));
    if (records.rootCalls) records.constants(body, imported + i, inRoot, result);
    if (inRoot) visit(body, undefined, i);
    else if (records.rootCalls) {
      result.callSitesRewritten += records.select(body.length);
      visit(body, records, i);
    }
  }
  return result;
}

/** What both rewrites start from: bodies, and each root's parameter count by function index. */
function prepare(m: WasmModule, roots: Set<number>) {
  const funcImports = readImports(m).flatMap((i) => i.kind === "func" ? [i.type] : []);
  const imported = funcImports.length;
  const types = readTypes(m);
  const funcTypes = readFunctions(m);
  const bodies = readCode(m);
  const count = imported + bodies.length;
  /** Parameter count of each root, -1 for other functions: the hot path's only lookup. */
  const rootParams = new Int32Array(count).fill(-1);
  for (const r of roots) {
    const t = types[r < imported ? funcImports[r] : funcTypes[r - imported]];
    rootParams[r] = t?.kind === "func" ? t.params.length : 0;
  }
  const result: ByteRewrite = {
    callSitesRewritten: 0,
    sites: new Map(),
    otherConstants: new ValueSet(),
    innerConstants: new Map(),
  };
  return { imported, bodies, rootParams, result };
}

/** The references `reach` tracks: functions, globals, types, tables, element segments. */
const REF_KINDS = 1 << Imm.func | 1 << Imm.global | 1 << Imm.type | 1 << Imm.table |
  1 << Imm.elem;

const ROOT_BODY = new Uint8Array([0x00, 0x00, 0x0b]);

/** Reads the u32 LEB at `pos` (any length up to 5 bytes), or -1 when it runs out. */
function lebAt(b: Uint8Array, pos: number): number {
  let v = 0, shift = 0;
  for (let i = 0; i < 5 && pos < b.length; i++, pos++) {
    v |= (b[pos] & 0x7f) << shift;
    if ((b[pos] & 0x80) === 0) return v >>> 0;
    shift += 7;
  }
  return -1;
}

/**
 * True when the body may call a root: some 0x10 byte is followed by a root's index. Bytes inside
 * immediates may match too (then the body is decoded for nothing); a real call always does.
 */
function mayCallRoot(body: Uint8Array, rootParams: Int32Array): boolean {
  for (let i = body.indexOf(0x10); i >= 0; i = body.indexOf(0x10, i + 1)) {
    const v = lebAt(body, i + 1);
    if (v >= 0 && v < rootParams.length && rootParams[v] >= 0) return true;
  }
  return false;
}

/**
 * The values of every `i32.const` in a code section payload, found by a byte scan: each 0x41
 * byte is read as the start of one. Bytes inside other immediates add values that are not
 * constants, so the set may be larger than the truth: used for the dead-data estimate, that
 * only makes the estimate smaller, never wrong. Only values in [`low`, `high`) are kept (the
 * estimate asks only about addresses in the data segments; fewer values sort faster).
 */
export function codeConstants(
  code: Uint8Array,
  into: ValueSet,
  low = 0,
  high = 2 ** 32,
): void {
  // Collected in a local array first (one append): a method call per byte found is slower.
  let values = new Uint32Array(Math.max(1024, code.length >> 4));
  let n = 0;
  for (let i = 0; i < code.length; i++) {
    if (code[i] !== 0x41) continue;
    const v = constAt(code, i);
    if (v < low || v >= high) continue;
    if (n === values.length) {
      const next = new Uint32Array(n * 2);
      next.set(values);
      values = next;
    }
    values[n++] = v;
  }
  into.append(values.subarray(0, n));
}

/**
 * A set of u32 values filled once and then queried: appended to a typed array, sorted on the
 * first query (a `Set` of every i32.const of a large module costs more time and memory).
 */
export class ValueSet {
  #values = new Uint32Array(1024);
  #length = 0;
  #sorted = true;
  /** Adds a value (duplicates are fine). */
  push(v: number): void {
    if (this.#length === this.#values.length) {
      const next = new Uint32Array(this.#values.length * 2);
      next.set(this.#values);
      this.#values = next;
    }
    this.#values[this.#length++] = v >>> 0;
    this.#sorted = false;
  }
  /** Adds every value of `values`. */
  append(values: Uint32Array): void {
    if (this.#length + values.length > this.#values.length) {
      const next = new Uint32Array(Math.max(this.#values.length * 2, this.#length + values.length));
      next.set(this.#values.subarray(0, this.#length));
      this.#values = next;
    }
    this.#values.set(values, this.#length);
    this.#length += values.length;
    this.#sorted = false;
  }
  /** True when `v` was added. */
  has(v: number): boolean {
    if (!this.#sorted) {
      this.#values = this.#values.subarray(0, this.#length).sort();
      this.#sorted = true;
    }
    const a = this.#values;
    let lo = 0, hi = this.#length - 1;
    v >>>= 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] === v) return true;
      if (a[mid] < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/**
 * True when the LEB at `b[at, at + length)` can be shorter: its last byte only extends the
 * previous one (0x00 after a byte whose value bits leave it unsigned or positive, 0x7f after a
 * negative one when `signed`).
 */
function padded(b: Uint8Array, at: number, length: number, signed: boolean): boolean {
  return length >= 2 && lastAddsNothing(b, at + length, signed);
}

/**
 * True when the last byte of the LEB ending at `end` (two bytes or more) adds nothing: its value
 * bits are 0 (unsigned, or signed after a byte whose sign bit is clear) or all ones after a byte
 * whose sign bit is set. The continuation bit of the last byte is ignored.
 */
function lastAddsNothing(b: Uint8Array, end: number, signed: boolean): boolean {
  const last = b[end - 1] & 0x7f;
  const sign = b[end - 2] & 0x40;
  return signed ? (last === 0x00 && !sign) || (last === 0x7f && sign !== 0) : last === 0x00;
}

/** Writes the LEB at `b[at, at + length)` to `out` without its padding bytes. */
function writeMinimal(out: Out, b: Uint8Array, at: number, length: number, signed: boolean) {
  let n = length;
  while (n > 1 && lastAddsNothing(b, at + n, signed)) n--;
  out.range(b, at, at + n - 1);
  out.byte(b[at + n - 1] & 0x7f);
}

/**
 * True when `body` may hold a padded LEB: a last byte that adds nothing to the one before it,
 * 0x00 after a continuation byte whose sign bit (0x40) is clear, or 0x7f after one whose sign bit
 * is set (a padded -1). A body without such a pair is copied without decoding. Minimal LEBs such
 * as `9c 7f` (-100) or `c0 00` (signed 64), and the `fc 00` opcode pair, do not look padded, so
 * modules without padding (most not fresh from `wasm-ld`) are not decoded. Not seen: an unsigned
 * value padded by exactly one byte whose top group has bit 0x40 set (`c0 00` for 64), which the
 * linker never writes (it pads to 5 bytes, with 0x80 bytes before the last).
 */
function mayHavePadding(body: Uint8Array): boolean {
  for (let i = 1; i < body.length; i++) {
    const b = body[i];
    if (b !== 0x00 && b !== 0x7f) continue;
    const prev = body[i - 1];
    if (prev & 0x80 && (b === 0x00) === ((prev & 0x40) === 0)) return true;
  }
  return false;
}

/** The memory instructions with a plain memarg right after the opcode (loads and stores). */
const isMemoryAccess = (op: number) => op >= 0x28 && op <= 0x3e;

/**
 * Re-encodes, in every body of a linked module's code section, the LEB immediates the linker
 * padded to 5 (or 10) bytes so that relocations could be patched in place (`wasm-ld` without
 * `--compress-relocations`): `i32.const`/`i64.const` values, memarg alignments and offsets,
 * local, global, label, function, table, memory, data, element, tag and `call_indirect` type
 * indices, block types, and body sizes, each in its shortest form, as binaryen writes them. The
 * values and the instructions stay the same. Returns the bytes saved.
 *
 * Only for linked modules: in a relocatable object the padding is where relocations write.
 *
 * @example A padded i32.const shrinks to its shortest encoding
 * ```ts
 * import assert from "node:assert";
 * import { WasmModule } from "../wasm/module.ts";
 * import { compactImmediates } from "./_panic_bytes.ts";
 * // (func (result i32) i32.const 5 (5 bytes: 85 80 80 80 00))
 * const m = WasmModule.parse(new Uint8Array([
 *   0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f, 3, 2, 1, 0,
 *   10, 10, 1, 8, 0, 0x41, 0x85, 0x80, 0x80, 0x80, 0x00, 0x0b,
 * ]));
 * assert.strictEqual(compactImmediates(m), 4);
 * assert.deepStrictEqual([...m.section(10)!.payload], [1, 4, 0, 0x41, 5, 0x0b]);
 * ```
 */
export function compactImmediates(m: WasmModule): number {
  const codeSection = m.section(SectionId.code);
  if (!codeSection) return 0;
  const bodies = readCode(m);
  const tmp = new Out();
  /** Flat (position, length, signed) triples of the current body's LEBs that can shrink. */
  let spans: number[] = [];
  let body: Uint8Array = new Uint8Array(0);
  const span = (at: number, length: number, signed: boolean) => {
    if (padded(body, at, length, signed)) spans.push(at, length, signed ? 1 : 0);
  };
  /** Skips the LEB at `pos` and returns where the next byte is. */
  const after = (pos: number) => {
    while (body[pos] & 0x80) pos++;
    return pos + 1;
  };
  const visitor = {
    immediate(kind: number, _value: number, at: number, length: number, op: number) {
      if (kind === Imm.memory && isMemoryAccess(op)) return; // with its memarg, below
      if (kind !== Imm.type) return span(at, length, false);
      if (op === 0x11 || op === 0x13 || op === 0x14 || op === 0x15) span(at, length, false);
      // block types are signed (s33); heap types of GC instructions are left as they are
      else if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) span(at, length, true);
    },
    instruction(op: number, _sub: number, start: number, end: number) {
      if (op === 0x41 || op === 0x42) span(start + 1, end - start - 1, true);
      else if (isMemoryAccess(op)) {
        let pos = start + 1;
        const alignAt = pos;
        pos = after(pos);
        span(alignAt, pos - alignAt, false);
        if (lebAt(body, alignAt) & 0x40) { // multi-memory: a memory index follows
          const memAt = pos;
          pos = after(pos);
          span(memAt, pos - memAt, false);
        }
        span(pos, end - pos, false);
      }
    },
  };
  // The bodies that shrink, first: a module without padding is left as it is, not copied.
  const compacted = new Map<number, Uint8Array>();
  bodies.forEach(({ body: b, offset }, index) => {
    if (!mayHavePadding(b)) return;
    body = b;
    spans = [];
    decodeInstructions(b, 0, b.length, true, visitor, Math.max(0, offset));
    if (spans.length === 0) return;
    tmp.len = 0;
    let pos = 0;
    for (let i = 0; i < spans.length; i += 3) {
      const at = spans[i], length = spans[i + 1];
      tmp.range(b, pos, at);
      writeMinimal(tmp, b, at, length, spans[i + 2] === 1);
      pos = at + length;
    }
    tmp.range(b, pos, b.length);
    compacted.set(index, tmp.result().slice());
  });
  if (compacted.size === 0) return 0;
  const out = new Out(codeSection.payload.length);
  out.u32(bodies.length);
  bodies.forEach(({ body: b }, index) => {
    const c = compacted.get(index) ?? b;
    out.u32(c.length);
    out.copy(c);
  });
  const saved = codeSection.payload.length - out.len;
  if (saved > 0) m.setPayload(codeSection, out.result());
  return Math.max(0, saved);
}
