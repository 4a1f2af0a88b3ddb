/**
 * binaryen.js plumbing of the `panic` pass: typed access to the per-class helpers, and the
 * rewriting of call sites of roots that trap.
 * @module
 */
import { walk } from "./_ir_walk.ts";
import type { Binaryen, BinaryenModule } from "./types.ts";

/** A statement position holding a direct call to a root. */
export interface CallSlot {
  target: string;
  call: number;
  set(replacement: number): void;
}

export interface StatementApi {
  Block: {
    getNumChildren(e: number): number;
    getChildAt(e: number, i: number): number;
    setChildAt(e: number, i: number, c: number): void;
  };
  If: {
    getIfTrue(e: number): number;
    getIfFalse(e: number): number;
    setIfTrue(e: number, c: number): void;
    setIfFalse(e: number, c: number): void;
  };
  Loop: { getBody(e: number): number; setBody(e: number, c: number): void };
  Call: CallApi & { isReturn(e: number): boolean };
}

/** The root a statement calls directly (not as a tail call), if any. */
export function rootCallTarget(
  binaryen: Binaryen,
  e: number,
  roots: Set<string>,
): string | undefined {
  if (!e || binaryen.getExpressionId(e) !== binaryen.CallId) return undefined;
  const api = binaryen as unknown as StatementApi;
  const target = api.Call.getTarget(e);
  return roots.has(target) && !api.Call.isReturn(e) ? target : undefined;
}

/**
 * Records the direct children of a block, if or loop that call a root. Roots return nothing, so
 * a call to one is always a statement: in a block, an if arm, a loop body or a function body.
 */
export function findCallSlots(
  binaryen: Binaryen,
  expr: number,
  id: number,
  roots: Set<string>,
  slots: CallSlot[],
): void {
  const api = binaryen as unknown as StatementApi;
  const add = (child: number, set: (e: number) => void) => {
    const target = rootCallTarget(binaryen, child, roots);
    if (target) slots.push({ target, call: child, set });
  };
  if (id === binaryen.BlockId) {
    const n = api.Block.getNumChildren(expr);
    for (let i = 0; i < n; i++) {
      add(api.Block.getChildAt(expr, i), (e) => api.Block.setChildAt(expr, i, e));
    }
  } else if (id === binaryen.IfId) {
    add(api.If.getIfTrue(expr), (e) => api.If.setIfTrue(expr, e));
    add(api.If.getIfFalse(expr), (e) => api.If.setIfFalse(expr, e));
  } else if (id === binaryen.LoopId) {
    add(api.Loop.getBody(expr), (e) => api.Loop.setBody(expr, e));
  }
}

/** `call $root(a, b, ...)` → `(drop a) ... unreachable`, keeping only operands with effects. */
export function trapWithOperands(ir: BinaryenModule, binaryen: Binaryen, call: number): number {
  const api = binaryen as unknown as StatementApi;
  const effects = binaryen as unknown as { getSideEffects(e: number, m: BinaryenModule): number };
  const kept: number[] = [];
  for (let k = 0; k < api.Call.getNumOperands(call); k++) {
    const op = api.Call.getOperandAt(call, k);
    if (effects.getSideEffects(op, ir) !== 0) kept.push(ir.drop(op));
  }
  if (kept.length === 0) return ir.unreachable();
  return ir.block(null, [...kept, ir.unreachable()], binaryen.unreachable);
}

/** binaryen.js's `Function` helpers (typed on `Module` in its .d.ts, present on the namespace). */
export interface FunctionApi {
  getName(func: number): string;
  getParams(func: number): number;
  setBody(func: number, body: number): void;
  getBody(func: number): number;
}
export interface CallApi {
  getTarget(call: number): string;
  getNumOperands(call: number): number;
  getOperandAt(call: number, index: number): number;
}
export const fn = (binaryen: Binaryen) =>
  (binaryen as unknown as { Function: FunctionApi }).Function;

/**
 * False when `expr` provably never completes: its type is `unreachable`, or it is an unnamed
 * block (no branch can target it) whose last child never completes. Binaryen types a function
 * body block by the function's results, so a never-returning `-> u32` body is an `i32` block.
 */
function mayComplete(binaryen: Binaryen, expr: number): boolean {
  if (binaryen.getExpressionType(expr) === binaryen.unreachable) return false;
  if (binaryen.getExpressionId(expr) !== binaryen.BlockId) return true;
  const block = (binaryen as unknown as {
    Block: { getName(e: number): string | null; getNumChildren(e: number): number };
  }).Block;
  const n = block.getNumChildren(expr);
  if (block.getName(expr) || n === 0) return true;
  return mayComplete(binaryen, (binaryen as unknown as StatementApi).Block.getChildAt(expr, n - 1));
}

/** Why a function might return normally, or undefined when it provably never does. */
export function whyMayReturn(binaryen: Binaryen, func: number): string | undefined {
  const info = binaryen.getFunctionInfo(func);
  if (info.module) return "it is imported";
  if (mayComplete(binaryen, info.body)) return "its body can complete normally";
  let why: string | undefined;
  const api = binaryen as unknown as Record<string, { isReturn(e: number): boolean }>;
  const { opaque } = walk(binaryen, info.body, (e, id) => {
    if (id === binaryen.ReturnId) why = "its body contains a return";
    if (id === binaryen.CallId && api.Call.isReturn(e)) why = "its body contains a tail call";
    if (id === binaryen.CallIndirectId && api.CallIndirect.isReturn(e)) {
      why = "its body contains a tail call";
    }
  });
  if (!why && opaque) why = "its body has instructions this pass cannot inspect";
  return why;
}
