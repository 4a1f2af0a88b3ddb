/**
 * Pass `binaryen`: binaryen's own optimizations in the pipeline — an optimization level
 * (`O1`..`O4`, `Os`, `Oz`, as `wasm-opt -O2` etc.) and any binaryen pass by name — on the IR the
 * neighbouring IR passes share (one parse, one emit), with exactly the input's features. Users
 * need no second `wasm-opt` step.
 * @module
 */
import { BinaryenError } from "../errors.ts";
import { definePass, list, type PassInput } from "./define.ts";
import type { Binaryen, BinaryenModule } from "./types.ts";

/** Optimization levels as `wasm-opt` spells them: optimize and shrink levels. */
const LEVELS: Record<string, [number, number]> = {
  O0: [0, 0],
  O1: [1, 0],
  O2: [2, 0],
  O3: [3, 0],
  O4: [4, 0],
  Os: [2, 1],
  Oz: [2, 2],
  O: [2, 0],
};

function isLevel(item: string): boolean {
  return item.replace(/^-/, "") in LEVELS;
}

/** Splits `a,b` items and checks pass names against binaryen's own list when it is loaded. */
function items(raw: string[]): string[] {
  return raw.flatMap((r) => r.split(",")).map((s) => s.trim()).filter(Boolean);
}

/**
 * The `binaryen` pass.
 *
 * @example Optimize for size inside a pipeline
 * ```ts
 * import assert from "node:assert";
 * import { runPipeline } from "../pipeline.ts";
 * import { binaryenPasses } from "./binaryen.ts";
 * const input = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const { report } = await runPipeline(input, [binaryenPasses({ passes: ["Oz"] })]);
 * assert.ok(report.outputBytes < report.inputBytes);
 * assert.throws(() => binaryenPasses({ passes: ["no-such-pass!"] }), /not a binaryen pass name/);
 * ```
 */
export const binaryenPasses = definePass({
  name: "binaryen",
  description: "run binaryen optimizations (-O1..-O4, -Os, -Oz) and binaryen passes by name",
  level: "ir",
  main: "passes",
  options: {
    passes: list({
      help: "an optimization level (O1, O2, O3, O4, Os, Oz; opt -O2 is the same) or binaryen " +
        "pass names (vacuum, merge-blocks, ...), comma-separated, in order",
      value: "pass,...",
      check(item) {
        for (const p of items([item])) {
          if (!isLevel(p) && !/^[a-z0-9][a-z0-9-]*$/.test(p)) {
            throw new RangeError(`"${p}" is not a binaryen pass name or optimization level`);
          }
        }
      },
    }),
  },
  create: ({ passes }) => ({
    run(ir, ctx) {
      const steps = items(passes ?? []);
      if (steps.length === 0) return { skipped: "no binaryen passes given" };
      const ran: string[] = [];
      for (const group of groupSteps(steps)) {
        if (typeof group === "string") {
          runLevel(ctx.binaryen, ir, group);
          ran.push(group);
        } else {
          runNamed(ir, group);
          ran.push(...group);
        }
      }
      return { ran, functions: ir.getNumFunctions() };
    },
  }),
});

/** Levels stay single; consecutive pass names run as one `runPasses` call. */
function groupSteps(steps: string[]): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (const s of steps) {
    const last = out.at(-1);
    if (isLevel(s)) out.push(s.replace(/^-/, ""));
    else if (Array.isArray(last)) last.push(s);
    else out.push([s]);
  }
  return out;
}

function runLevel(binaryen: Binaryen, ir: BinaryenModule, level: string): void {
  const [optimize, shrink] = LEVELS[level];
  const previous = [binaryen.getOptimizeLevel(), binaryen.getShrinkLevel()];
  binaryen.setOptimizeLevel(optimize);
  binaryen.setShrinkLevel(shrink);
  try {
    if (optimize > 0) ir.optimize();
  } catch (e) {
    throw new BinaryenError(`optimize (-${level})`, describe(e), e);
  } finally {
    binaryen.setOptimizeLevel(previous[0]);
    binaryen.setShrinkLevel(previous[1]);
  }
}

function runNamed(ir: BinaryenModule, names: string[]): void {
  try {
    ir.runPasses(names);
  } catch (e) {
    // binaryen throws a bare C++ exception object for an unknown pass name
    const detail = describe(e);
    throw new BinaryenError(
      `run ${names.map((n) => `"${n}"`).join(", ")} on`,
      detail && detail !== "[object Object]"
        ? detail
        : "a pass name is unknown or the pass failed; `wasm-opt --help` lists binaryen's passes",
      e,
    );
  }
}

function describe(e: unknown): string {
  return e && typeof e === "object" && "message" in e
    ? String((e as { message: unknown }).message).split("\n")[0]
    : "";
}

/** Options of {@linkcode binaryenPasses}. */
export type BinaryenPassesOptions = PassInput<typeof binaryenPasses.definition.options>;
