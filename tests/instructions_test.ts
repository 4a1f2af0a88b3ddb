/**
 * The shared instruction decoder: the `kinds` filter reports exactly the immediates of those kinds
 * that an unfiltered decode reports, in the same order, on real modules.
 */
import assert from "node:assert/strict";
import { decodeInstructions, Imm } from "../wasm/instructions.ts";
import { readModule } from "../wasm/module.ts";
import { readCode } from "../wasm/types.ts";
import { fixture, FIXTURES } from "./_tools.ts";

const MODULES = [
  new URL("../examples/demo/app.wasm", import.meta.url).pathname,
  ...FIXTURES.map(fixture),
  fixture("panic/small_z.wasm"),
];

/** Every immediate of the code as `kind value at length op`, keeping only `keep` kinds. */
function immediates(bytes: Uint8Array, keep: number, filter: boolean): string[] {
  const out: string[] = [];
  for (const { body } of readCode(readModule(bytes))) {
    decodeInstructions(body, 0, body.length, true, {
      kinds: filter ? keep : undefined,
      immediate: (kind, value, at, length, op) => {
        if (keep & (1 << kind)) out.push(`${kind} ${value} ${at} ${length} ${op}`);
      },
    });
  }
  return out;
}

for (const path of MODULES) {
  Deno.test(`decodeInstructions() with kinds reports the same immediates: ${path.split("/").slice(-2).join("/")}`, async () => {
    const bytes = await Deno.readFile(path);
    let reported = 0;
    for (
      const keep of [
        1 << Imm.func,
        1 << Imm.func | 1 << Imm.global | 1 << Imm.type | 1 << Imm.table,
        1 << Imm.local | 1 << Imm.label,
        0,
      ]
    ) {
      const filtered = immediates(bytes, keep, true);
      assert.deepEqual(filtered, immediates(bytes, keep, false));
      reported += filtered.length;
    }
    assert.ok(reported > 0, "the code has immediates");
  });
}
