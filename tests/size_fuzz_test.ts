/**
 * Mutants of real modules and objects through every size view: each ends in a result whose items
 * still add up to the file, or one typed error (never an internal one).
 */
import assert from "node:assert/strict";
import { describeError } from "../errors.ts";
import { analyzeSize, diffSizes, garbageItems, topItems, whyKept } from "../size/mod.ts";
import { mutate, random } from "./_fuzz.ts";
import { fixture } from "./_tools.ts";

const INPUTS = [
  "rust_cdylib/app.wasm",
  "panic/small_z.wasm",
  "glue/app.wasm",
  "c_objects/main.o",
  "rust_objects/lib.o",
  "glue/app.o",
];

Deno.test("size views on 3,000 mutants: results that add up to the file, or one typed error", async () => {
  const rnd = random(0x5123);
  const problems: string[] = [];
  let results = 0;
  let rejected = 0;
  for (const name of INPUTS) {
    const input = await Deno.readFile(fixture(name));
    for (let i = 0; i < 500; i++) {
      const bytes = mutate(input, rnd);
      try {
        const a = analyzeSize(bytes);
        let sum = 0;
        for (const v of a.itemIds()) sum += a.shallow[v];
        if (sum !== bytes.length) {
          problems.push(`${name} #${i}: items add up to ${sum} of ${bytes.length}`);
        }
        topItems(a, { limit: 5 });
        topItems(a, { limit: 5, by: "retained" });
        garbageItems(a);
        whyKept(a, "/./", { limit: 3 });
        const d = diffSizes(input, a);
        if (d.items.reduce((n, r) => n + r.delta, 0) !== d.total.delta) {
          problems.push(`${name} #${i}: diff deltas do not add up`);
        }
        results++;
      } catch (e) {
        if (!describeError(e)) {
          problems.push(`${name} #${i}: ${e instanceof Error ? e.stack : e}`);
        } else rejected++;
      }
    }
  }
  assert.deepEqual(problems.slice(0, 5), []);
  assert.ok(results > 300 && rejected > 300, `${results} results, ${rejected} rejections`);
});
