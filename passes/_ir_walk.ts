/**
 * A small walker over binaryen.js expression trees (binaryen.js has no generic child iterator).
 * It knows the children of the MVP, bulk-memory, SIMD, reference and exception expressions, read
 * through binaryen.js's per-class getters (`binaryen.Call.getOperandAt`, ...), which call the C API
 * directly. Expressions of other kinds (GC, strings, stack switching) are visited but not
 * descended into, and counted in `opaque` so callers can tell a complete walk from a partial one.
 * @module
 */
import type { Binaryen } from "./types.ts";

type ExpressionRef = number;
type Push = (expr: ExpressionRef, stack: ExpressionRef[]) => void;
type Getter = (expr: ExpressionRef) => ExpressionRef;

/**
 * Children per expression class: getters of single children, then an optional
 * [count getter, indexed getter] pair for lists.
 */
const SPEC: [string, string[], [string, string]?][] = [
  ["Nop", []],
  ["Block", [], ["getNumChildren", "getChildAt"]],
  ["If", ["getCondition", "getIfTrue", "getIfFalse"]],
  ["Loop", ["getBody"]],
  ["Break", ["getCondition", "getValue"]],
  ["Switch", ["getCondition", "getValue"]],
  ["Call", [], ["getNumOperands", "getOperandAt"]],
  ["CallIndirect", ["getTarget"], ["getNumOperands", "getOperandAt"]],
  ["LocalGet", []],
  ["LocalSet", ["getValue"]],
  ["GlobalGet", []],
  ["GlobalSet", ["getValue"]],
  ["Load", ["getPtr"]],
  ["Store", ["getPtr", "getValue"]],
  ["AtomicRMW", ["getPtr", "getValue"]],
  ["AtomicCmpxchg", ["getPtr", "getExpected", "getReplacement"]],
  ["AtomicWait", ["getPtr", "getExpected", "getTimeout"]],
  ["AtomicNotify", ["getPtr", "getNotifyCount"]],
  ["AtomicFence", []],
  ["SIMDExtract", ["getVec"]],
  ["SIMDReplace", ["getVec", "getValue"]],
  ["SIMDShuffle", ["getLeft", "getRight"]],
  ["SIMDTernary", ["getA", "getB", "getC"]],
  ["SIMDShift", ["getVec", "getShift"]],
  ["SIMDLoad", ["getPtr"]],
  ["SIMDLoadStoreLane", ["getPtr", "getVec"]],
  ["MemoryInit", ["getDest", "getOffset", "getSize"]],
  ["DataDrop", []],
  ["MemoryCopy", ["getDest", "getSource", "getSize"]],
  ["MemoryFill", ["getDest", "getValue", "getSize"]],
  ["Const", []],
  ["Unary", ["getValue"]],
  ["Binary", ["getLeft", "getRight"]],
  ["Select", ["getIfTrue", "getIfFalse", "getCondition"]],
  ["Drop", ["getValue"]],
  ["Return", ["getValue"]],
  ["MemorySize", []],
  ["MemoryGrow", ["getDelta"]],
  ["Unreachable", []],
  ["Pop", []],
  ["RefNull", []],
  ["RefIsNull", ["getValue"]],
  ["RefFunc", []],
  ["RefEq", ["getLeft", "getRight"]],
  ["TableGet", ["getIndex"]],
  ["TableSet", ["getIndex", "getValue"]],
  ["TableSize", []],
  ["TableGrow", ["getValue", "getDelta"]],
  ["Try", ["getBody"], ["getNumCatchBodies", "getCatchBodyAt"]],
  ["Throw", [], ["getNumOperands", "getOperandAt"]],
  ["Rethrow", []],
  ["TupleMake", [], ["getNumOperands", "getOperandAt"]],
  ["TupleExtract", ["getTuple"]],
];

const cache = new WeakMap<object, Map<number, Push>>();

function pushers(binaryen: Binaryen): Map<number, Push> {
  let map = cache.get(binaryen);
  if (map) return map;
  map = new Map();
  const ns = binaryen as unknown as Record<string, unknown>;
  for (const [cls, singles, list] of SPEC) {
    const id = ns[`${cls}Id`];
    const api = ns[cls] as Record<string, Getter> | undefined;
    if (typeof id !== "number") continue;
    if (!api && (singles.length || list)) continue;
    const getters = singles.map((g) => api![g]);
    const count = list ? api![list[0]] : undefined;
    const at = list ? (api![list[1]] as (e: number, i: number) => number) : undefined;
    if (getters.some((g) => typeof g !== "function")) continue;
    if (list && (typeof count !== "function" || typeof at !== "function")) continue;
    map.set(id, (expr, stack) => {
      if (count) { for (let i = count(expr) - 1; i >= 0; i--) stack.push(at!(expr, i)); }
      for (let i = getters.length - 1; i >= 0; i--) stack.push(getters[i](expr));
    });
  }
  cache.set(binaryen, map);
  return map;
}

/** What {@linkcode walk} saw besides what the visitor did. */
export interface WalkResult {
  /** Expressions of kinds the walker does not descend into (their children were not visited). */
  opaque: number;
}

/** Visits `root` and its descendants, parents before children, with each expression's id. */
export function walk(
  binaryen: Binaryen,
  root: ExpressionRef,
  visit: (expr: ExpressionRef, id: number) => void,
): WalkResult {
  const push = pushers(binaryen);
  const result: WalkResult = { opaque: 0 };
  const stack: ExpressionRef[] = [root];
  while (stack.length) {
    const expr = stack.pop()!;
    if (!expr) continue;
    const id = binaryen.getExpressionId(expr);
    visit(expr, id);
    const children = push.get(id);
    if (children) children(expr, stack);
    else result.opaque++;
  }
  return result;
}
