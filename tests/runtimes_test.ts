/**
 * Outputs of the code passes run where users run them: a real wasm-bindgen module from npm
 * (automerge, 3.6 MB, names kept, built with panic=unwind) goes through `panic`,
 * `externref-batch`, `dce` and all of them together; each output answers the package's API the
 * same as the input in Deno, Node 20 and headless Chromium, and uses no opcode or value type the
 * input does not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dce, externrefBatch, panic, type Pass, readModule, runPipeline } from "../mod.ts";
import { decodeInstructions } from "../wasm/instructions.ts";
import { readCode } from "../wasm/types.ts";
import { type Feature, moduleFeatures, opcodeFeature } from "../wasm/features.ts";
import { chromium, inChromium, inDeno, inNode, node, npm, setUp } from "./_runtimes.ts";
import { needs } from "./_tools.ts";

/** Every opcode (with sub-opcode) and every value-type byte in the code. */
function vocabulary(bytes: Uint8Array): Set<string> {
  const m = readModule(bytes);
  const out = new Set<string>();
  for (const { body } of readCode(m)) {
    decodeInstructions(body, 0, body.length, true, {
      instruction: (op, sub) => void out.add(sub < 0 ? `op ${op}` : `op ${op} ${sub}`),
      typeByte: (b) => void out.add(`type ${b}`),
    });
  }
  return out;
}

const VARIANTS: [string, () => Pass[]][] = [
  ["dce", () => [dce()]],
  ["panic", () => [panic({ mode: "trap", allowUnwindChange: true })]],
  ["externref", () => [externrefBatch()]],
  ["all", () => [panic({ mode: "trap", allowUnwindChange: true }), externrefBatch(), dce()]],
];

Deno.test({
  name: "code passes on automerge: same answers in Deno, Node and Chromium, no new opcode",
  ...needs(npm, node, chromium),
  async fn() {
    const bench = await setUp();
    try {
      const names = ["input"];
      await Deno.writeFile(join(bench.dir, "input.wasm"), bench.input);
      const inputVocabulary = vocabulary(bench.input);
      const allowed = moduleFeatures(readModule(bench.input)).allowed;
      for (const [name, passes] of VARIANTS) {
        const { bytes, report } = await runPipeline(bench.input, passes());
        if (name === "externref") {
          assert.ok((report.passes[0].report.sitesRewritten as number) > 0, "grow sites found");
        } else assert.ok(bytes.length < bench.input.length, `${name} makes the module smaller`);
        // New opcodes are fine only within features the input uses (externref-batch's helper
        // uses table.size and table.fill, reference-types opcodes the input's own code lacks).
        const extra = [...vocabulary(bytes)].filter((v) => !inputVocabulary.has(v));
        for (const v of extra) {
          const [kind, a, b] = v.split(" ");
          const feature = kind === "op" ? opcodeFeature(Number(a), b ? Number(b) : -1) : "type";
          assert.ok(feature && allowed.has(feature as Feature), `${name} uses ${v}`);
        }
        const { detected } = moduleFeatures(readModule(bytes));
        assert.deepEqual([...detected].filter((f) => !allowed.has(f)), [], name);
        assert.ok(report.validated);
        await Deno.writeFile(join(bench.dir, `${name}.wasm`), bytes);
        names.push(name);
      }
      const expected = await inDeno(bench, join(bench.dir, "input.wasm"));
      const answers = JSON.parse(expected);
      assert.equal(answers.doc.title, "hello", "the scenario ran");
      assert.equal(answers.panics, "threw");
      assert.equal(answers.errors.length, 2);
      const browser = await inChromium(bench, names);
      for (const name of names) {
        const wasm = join(bench.dir, `${name}.wasm`);
        assert.equal(await inDeno(bench, wasm), expected, `${name} in Deno`);
        assert.equal(await inNode(bench, wasm), expected, `${name} in Node`);
        assert.equal(browser[name], expected, `${name} in Chromium`);
      }
    } finally {
      await bench.remove();
    }
  },
});
