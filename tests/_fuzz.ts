/**
 * Mutation fuzzing of every built-in pass and `inspect` on real modules and objects: each mutant
 * must end in an output (valid whenever the mutant itself was valid) or one typed error, never a
 * bug. Used by tests/fuzz_test.ts (fixed seed, in CI) and by `deno task fuzz` (more cases, plus a
 * check that memory stays flat across failures).
 * @module
 */
import { describeError, PassError } from "../errors.ts";
import { inspectModule } from "../inspect.ts";
import { dce } from "../passes/dce.ts";
import { externrefBatch } from "../passes/externref_batch.ts";
import { jsGlue } from "../passes/js_glue.ts";
import { panic } from "../passes/panic.ts";
import { stripCustomSections } from "../passes/strip_custom_sections.ts";
import type { Pass } from "../passes/types.ts";
import { loadBinaryen, runPipeline } from "../pipeline.ts";
import { WasmModule } from "../wasm/module.ts";
import { fixture } from "./_tools.ts";

/** One way to exercise a mutant. */
export interface Target {
  /** What runs, e.g. `strip-custom-sections all`. */
  name: string;
  /** Fixtures it runs on. */
  inputs: string[];
  /** The passes (absent: `inspect`). */
  passes?: () => Pass[];
  /** Share of the case budget (IR passes parse with binaryen, so they get fewer). */
  weight: number;
}

const MODULES = ["rust_cdylib/app.wasm", "glue/app.wasm", "panic/small_z.wasm"];
const OBJECTS = ["c_objects/main.o", "c_objects/util.o", "rust_objects/lib.o", "glue/app.o"];

/** Every target: each built-in pass and `inspect`. */
export const TARGETS: Target[] = [
  { name: "inspect", inputs: [...MODULES, ...OBJECTS], weight: 1 },
  {
    name: "strip-custom-sections all",
    inputs: [...MODULES, ...OBJECTS],
    passes: () => [stripCustomSections()],
    weight: 1,
  },
  {
    name: "strip-custom-sections debug, keep name",
    inputs: [...MODULES, ...OBJECTS],
    passes: () => [stripCustomSections({ remove: ["debug", "producers"], keep: ["name"] })],
    weight: 1,
  },
  { name: "js-glue", inputs: ["glue/app.wasm"], passes: () => [jsGlue()], weight: 6 },
  {
    name: "externref-batch",
    inputs: ["glue/app.wasm", "rust_cdylib/app.wasm"],
    passes: () => [externrefBatch()],
    weight: 3,
  },
  { name: "panic trap", inputs: ["panic/small_z.wasm"], passes: () => [panic()], weight: 3 },
  {
    name: "panic hook (binaryen)",
    inputs: ["panic/small_z.wasm"],
    passes: () => [panic({ mode: "hook" })],
    weight: 2,
  },
  {
    name: "dce",
    inputs: ["rust_cdylib/app.wasm", "glue/app.wasm", "panic/small_z.wasm"],
    passes: () => [dce()],
    weight: 1,
  },
];

/** A small seeded generator (xorshift32), so a run can be repeated exactly. */
export function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** 1-4 byte flips, overwrites, insertions, deletions or a truncation of `input`. */
export function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  let b = input.slice();
  const count = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < count; k++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    const kind = Math.floor(rnd() * 10);
    if (kind < 4) b[at] ^= 1 << Math.floor(rnd() * 8);
    else if (kind < 7) b[at] = Math.floor(rnd() * 256);
    else if (kind < 8) {
      const bytes = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => rnd() * 256);
      b = new Uint8Array([...b.subarray(0, at), ...bytes, ...b.subarray(at)]);
    } else if (kind < 9) {
      b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + 1 + (at % 8))]);
    } else b = b.slice(0, at);
  }
  return b;
}

/** What a fuzz run found. */
export interface FuzzResult {
  cases: number;
  /** Mutants that gave an output. */
  outputs: number;
  /** Mutants refused with a typed error, by message shape. */
  rejected: Map<string, number>;
  /** Bugs: untyped errors, internal pass errors, invalid output from a valid mutant. */
  problems: string[];
}

/** The message with numbers and quoted values blanked, to group similar rejections. */
const shape = (m: string) => m.replace(/"[^"]*"/g, '"…"').replace(/0x[0-9a-f]+|\d+/g, "N");

/** Runs one mutant through one target. */
async function one(target: Target, bytes: Uint8Array, result: FuzzResult, label: string) {
  try {
    if (!target.passes) {
      inspectModule(WasmModule.parse(bytes), "mutant.wasm");
    } else {
      const { bytes: out } = await runPipeline(bytes, target.passes(), { output: "app.wasm" });
      const validIn = WebAssembly.validate(bytes as BufferSource);
      if (validIn && !WebAssembly.validate(out as BufferSource)) {
        result.problems.push(`${label}: a valid mutant gave an invalid output`);
      }
    }
    result.outputs++;
  } catch (e) {
    const described = describeError(e);
    if (!described || (e instanceof PassError && e.internal)) {
      const stack = e instanceof Error ? (e.cause instanceof Error ? e.cause : e).stack : "";
      result.problems.push(`${label}: ${String(e).split("\n")[0]}\n${stack}`);
      return;
    }
    const key = shape(described.message);
    result.rejected.set(key, (result.rejected.get(key) ?? 0) + 1);
  }
}

/**
 * Runs about `cases` mutants, spread over the targets by weight and over each target's inputs,
 * from `seed`. `onCase` is called after each case (for progress and memory checks).
 */
export async function fuzz(
  cases: number,
  seed: number,
  onCase?: (done: number) => void,
): Promise<FuzzResult> {
  const result: FuzzResult = { cases: 0, outputs: 0, rejected: new Map(), problems: [] };
  const total = TARGETS.reduce((n, t) => n + t.weight * t.inputs.length, 0);
  const rnd = random(seed);
  // Round robin over (target, input) pairs, so that every part of a long run mixes them all.
  const plan: { target: Target; name: string; bytes: Uint8Array; count: number }[] = [];
  for (const target of TARGETS) {
    for (const name of target.inputs) {
      const count = Math.max(1, Math.round((cases * target.weight) / total));
      plan.push({ target, name, bytes: await Deno.readFile(fixture(name)), count });
    }
  }
  const rounds = Math.max(...plan.map((p) => p.count));
  for (let i = 0; i < rounds; i++) {
    for (const { target, name, bytes, count } of plan) {
      if (i >= count) continue;
      const label = `${target.name} on ${name}, round ${i} of seed ${seed}`;
      await one(target, mutate(bytes, rnd), result, label);
      result.cases++;
      onCase?.(result.cases);
    }
  }
  return result;
}

if (import.meta.main) {
  // deno task fuzz [cases] [seed]: a long run, and memory must stay flat across failures.
  const cases = Number(Deno.args[0] ?? 100_000);
  const seed = Number(Deno.args[1] ?? Date.now() % 0x7fffffff);
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    return Deno.memoryUsage().heapUsed;
  };
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  await loadBinaryen(); // loaded before the first sample: its own size is not a leak
  const samples: number[] = [];
  const started = performance.now();
  const result = await fuzz(cases, seed, (done) => {
    if (done % Math.max(1, Math.floor(cases / 20)) === 0) {
      samples.push(heap());
      const s = ((performance.now() - started) / 1000).toFixed(0);
      console.error(
        `${done} cases, ${s} s, heap ${mib(samples.at(-1)!)}, rss ${mib(Deno.memoryUsage().rss)}`,
      );
    }
  });
  console.log(
    `seed ${seed}: ${result.cases} cases, ${result.outputs} outputs, ${
      [...result.rejected.values()].reduce((a, b) => a + b, 0)
    } typed rejections, ${result.problems.length} problems`,
  );
  for (const p of result.problems.slice(0, 20)) console.log(`problem: ${p}`);
  // Flat memory: the heap after the second tenth of the run and at its end differ by < 32 MiB.
  const grew = samples.length > 2 ? samples.at(-1)! - samples[1] : 0;
  console.log(`heap growth after warm-up: ${(grew / 2 ** 20).toFixed(1)} MiB`);
  if (result.problems.length || grew > 32 * 2 ** 20) Deno.exit(1);
}
