/**
 * The byte engine of the `panic` pass (trap mode): root bodies and call sites are rewritten on
 * the code bytes, without binaryen. A root's body becomes `unreachable`; a call to a root becomes
 * `unreachable` too (its operands are still evaluated, then the trap the root would have hit
 * happens), dropping the operands that are plain constants or local/global reads, and the code
 * after it up to the end of its block, which can no longer run. Then `dce` removes what nothing
 * reaches any more. Bodies without calls to roots are copied as bytes.
 * @module
 */
import { decodeInstructions, Imm } from "../wasm/instructions.ts";
import { SectionId, type WasmModule } from "../wasm/module.ts";
import { readCode, readFunctions, readImports, readTypes } from "../wasm/types.ts";

/** Why a body may return normally, or undefined when it provably never does. */
export function whyBodyMayReturn(body: Uint8Array): string | undefined {
  // One frame per open block: its kind and whether the code after it is reachable.
  const kinds: number[] = [0]; // 0 = function, 1 = block/try/if with else, 2 = loop, 3 = if
  const reachable: boolean[] = [true];
  /** Frames a branch targets: their end is reachable (loops: their start). */
  const targeted: boolean[] = [false];
  let why: string | undefined;
  let opaque = false;
  let labelDepths: number[] = [];
  decodeInstructions(body, 0, body.length, true, {
    immediate(kind, value) {
      if (kind === Imm.label) labelDepths.push(value);
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
  /** Constant i32 values used anywhere else outside root bodies. */
  otherConstants: Set<number>;
  /** Per root: constants its own body passes last to other roots (LTO-specialized roots). */
  innerConstants: Map<number, Set<number>>;
}

const PURE_PRODUCERS = new Set([0x20, 0x23, 0x41, 0x42, 0x43, 0x44, 0xd0, 0xd2]);
const OPENS = new Set([0x02, 0x03, 0x04, 0x06, 0x1f]);
const NEVER_FALLS_THROUGH = new Set([0x00, 0x08, 0x09, 0x0a, 0x0c, 0x0e, 0x0f, 0x12, 0x13, 0x15]);

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
 * Rewrites the code section of `m` in place: each root's body becomes `unreachable`, each call to
 * a root in other bodies becomes `unreachable` (see the module doc).
 */
export function rewriteOnBytes(m: WasmModule, roots: Set<number>): ByteRewrite {
  const imported = readImports(m).filter((i) => i.kind === "func").length;
  const types = readTypes(m);
  const funcTypes = readFunctions(m);
  const paramsOf = (f: number): string[] => {
    const t = f < imported
      ? types[(readImports(m).filter((i) => i.kind === "func")[f] as { type: number }).type]
      : types[funcTypes[f - imported]];
    return t?.kind === "func" ? t.params : [];
  };
  const rootParams = new Map([...roots].map((r) => [r, paramsOf(r).length]));
  const bodies = readCode(m);
  const result: ByteRewrite = {
    callSitesRewritten: 0,
    sites: new Map(),
    otherConstants: new Set(),
    innerConstants: new Map(),
  };
  const chunks: Uint8Array[] = [];
  const leb = (v: number) => {
    const out: number[] = [];
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    return new Uint8Array(out);
  };
  // Per-body instruction record, reused: opcode, start, end, called function (-1).
  let ops: number[] = [];
  let starts: number[] = [];
  let ends: number[] = [];
  let callees: number[] = [];
  let callee = -1;
  let codeStart = -1;
  const visitor = {
    immediate(kind: number, value: number, _at: number, _len: number, op: number) {
      if (kind === Imm.func && op === 0x10) callee = value;
    },
    instruction(op: number, _sub: number, start: number, end: number) {
      if (codeStart < 0) codeStart = start;
      ops.push(op);
      starts.push(start);
      ends.push(end);
      callees.push(op === 0x10 ? callee : -1);
      callee = -1;
    },
  };
  const ROOT_BODY = new Uint8Array([0x00, 0x00, 0x0b]);
  let changed = false;
  chunks.push(leb(bodies.length));
  for (let i = 0; i < bodies.length; i++) {
    const f = imported + i;
    const body = bodies[i].body;
    ops = [];
    starts = [];
    ends = [];
    callees = [];
    codeStart = -1;
    decodeInstructions(body, 0, body.length, true, visitor, Math.max(0, bodies[i].offset));
    const inRoot = roots.has(f);
    // Constants: operands of root calls (by parameter), and all others.
    const consumed = new Set<number>();
    for (let k = 0; k < ops.length; k++) {
      const target = callees[k];
      if (target < 0 || !roots.has(target)) continue;
      const n = rootParams.get(target)!;
      const constants = new Map<number, number>();
      for (let j = 1; j <= n && k - j >= 0 && PURE_PRODUCERS.has(ops[k - j]); j++) {
        consumed.add(k - j);
        if (ops[k - j] === 0x41) constants.set(n - j, constAt(body, starts[k - j]));
      }
      if (inRoot) {
        const last = constants.get(n - 1);
        if (last !== undefined) {
          const set = result.innerConstants.get(f) ?? new Set();
          result.innerConstants.set(f, set.add(last));
        }
        continue;
      }
      const s = result.sites.get(target) ?? { count: 0, constants: new Map() };
      result.sites.set(target, s);
      s.count++;
      for (const [p, c] of constants) s.constants.set(p, [...(s.constants.get(p) ?? []), c]);
    }
    if (!inRoot) {
      for (let k = 0; k < ops.length; k++) {
        if (ops[k] === 0x41 && !consumed.has(k)) {
          result.otherConstants.add(constAt(body, starts[k]));
        }
      }
    }
    if (inRoot) {
      chunks.push(leb(ROOT_BODY.length), ROOT_BODY);
      changed = true;
      continue;
    }
    if (!callees.some((c) => c >= 0 && roots.has(c))) {
      chunks.push(leb(body.length), body);
      continue;
    }
    changed = true;
    const out: Uint8Array[] = [body.subarray(0, codeStart)];
    /** Indices of emitted instructions, to drop trailing pure operands. */
    const emitted: number[] = [];
    let k = 0;
    while (k < ops.length) {
      const target = callees[k];
      const trapsHere = target >= 0 && roots.has(target);
      if (!trapsHere && !NEVER_FALLS_THROUGH.has(ops[k])) {
        emitted.push(k);
        k++;
        continue;
      }
      if (trapsHere) {
        result.callSitesRewritten++;
        let n = rootParams.get(target)!;
        while (n > 0 && emitted.length && PURE_PRODUCERS.has(ops[emitted.at(-1)!])) {
          emitted.pop();
          n--;
        }
        emitted.push(-1); // unreachable
      } else emitted.push(k);
      // Skip what follows up to the end (or else/catch/delegate) of the enclosing block.
      let depth = 0;
      for (k++; k < ops.length; k++) {
        const op = ops[k];
        if (OPENS.has(op)) depth++;
        else if (op === 0x0b) {
          if (depth === 0) break;
          depth--;
        } else if (depth === 0 && (op === 0x05 || op === 0x07 || op === 0x19 || op === 0x18)) {
          break;
        }
      }
    }
    for (const e of emitted) {
      out.push(e < 0 ? UNREACHABLE : body.subarray(starts[e], ends[e]));
    }
    const size = out.reduce((n, c) => n + c.length, 0);
    const joined = new Uint8Array(size);
    let pos = 0;
    for (const c of out) {
      joined.set(c, pos);
      pos += c.length;
    }
    chunks.push(leb(size), joined);
  }
  if (changed) {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const payload = new Uint8Array(total);
    let pos = 0;
    for (const c of chunks) {
      payload.set(c, pos);
      pos += c.length;
    }
    m.setSection(SectionId.code, payload);
  }
  return result;
}

const UNREACHABLE = new Uint8Array([0x00]);
