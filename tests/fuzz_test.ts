import assert from "node:assert/strict";
import { fuzz, TARGETS } from "./_fuzz.ts";

Deno.test("mutants of real modules and objects through every pass and inspect: output or one typed error", async () => {
  const result = await fuzz(12_000, 0x11c0de);
  assert.deepEqual(result.problems, []);
  assert.ok(result.cases > 11_900, `${result.cases} cases`); // rounding per target and input
  // Both outcomes happen: the mutations are neither all harmless nor all fatal.
  const rejected = [...result.rejected.values()].reduce((a, b) => a + b, 0);
  assert.ok(result.outputs > result.cases / 10, `${result.outputs} outputs`);
  assert.ok(rejected > result.cases / 10, `${rejected} rejections`);
  assert.ok(TARGETS.length >= 6);
});
