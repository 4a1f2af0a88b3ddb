import assert from "node:assert/strict";
import fc from "fast-check";
import { assembleFragment } from "../asm/mod.ts";
import { readU32 } from "../wasm/leb128.ts";
import { readLinking, readRelocs, RelocType } from "../wasm/linking.ts";
import { WasmModule } from "../wasm/module.ts";

const { FUNCTION_INDEX_LEB: F, TABLE_NUMBER_LEB: T, GLOBAL_INDEX_LEB: G, TYPE_INDEX_LEB: Y } =
  RelocType;

/** A stack-neutral piece of a body and the relocations it must produce, in binary order. */
interface Stmt {
  text: string;
  relocs: number[];
}

const leaf: fc.Arbitrary<Stmt> = fc.constantFrom<Stmt>(
  { text: "call $v (@reloc)", relocs: [F] },
  { text: "(call $v (@reloc))", relocs: [F] },
  { text: "call $r (@reloc) drop", relocs: [F] },
  { text: "(drop (call $r (@reloc)))", relocs: [F] },
  { text: "(drop call $r (@reloc))", relocs: [F] },
  { text: "(global.set $g (@reloc) (global.get $g (@reloc)))", relocs: [G, G] },
  { text: "global.get $g (@reloc) global.set $g (@reloc)", relocs: [G, G] },
  { text: "(drop (table.size $t (@reloc)))", relocs: [T] },
  { text: "(drop (table.get $t (@reloc) (i32.const 0)))", relocs: [T] },
  { text: "i32.const 0 table.get $t (@reloc) drop", relocs: [T] },
  { text: "(table.fill $t (@reloc) (i32.const 0) (ref.null extern) (i32.const 1))", relocs: [T] },
  { text: "(call_indirect $ft (type $tv) (@reloc) (i32.const 0))", relocs: [Y, T] },
  { text: "i32.const 0 call_indirect $ft (type $tv) (@reloc)", relocs: [Y, T] },
  { text: "(drop (drop (block (result i32 i32) (i32.const 1) (i32.const 2))))", relocs: [Y] },
  { text: "nop", relocs: [] },
  { text: "f32.const nan drop", relocs: [] },
  { text: "(drop (v128.const i32x4 1 2 3 4))", relocs: [] },
  { text: "(drop (ref.null extern)) ;; comment (@reloc)\n", relocs: [] },
  { text: '(; (@reloc) "x" ;) i64.const -1 drop', relocs: [] },
);

const join = (parts: Stmt[]) => ({
  text: parts.map((p) => p.text).join(" "),
  relocs: parts.flatMap((p) => p.relocs),
});

const { stmt } = fc.letrec<{ stmt: Stmt }>((tie) => ({
  stmt: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("stmt"), { maxLength: 4 }).map((xs) => {
      const s = join(xs);
      return { text: `(block ${s.text})`, relocs: s.relocs };
    }),
    fc.array(tie("stmt"), { maxLength: 4 }).map((xs) => {
      const s = join(xs);
      return { text: `loop $l ${s.text} end`, relocs: s.relocs };
    }),
    fc.tuple(fc.array(tie("stmt"), { maxLength: 3 }), fc.array(tie("stmt"), { maxLength: 3 }))
      .map(([a, b]) => {
        const x = join(a);
        const y = join(b);
        return {
          text: `(if (call $r (@reloc)) (then ${x.text}) (else ${y.text}))`,
          relocs: [F, ...x.relocs, ...y.relocs],
        };
      }),
    fc.tuple(fc.array(tie("stmt"), { maxLength: 3 }), fc.array(tie("stmt"), { maxLength: 3 }))
      .map(([a, b]) => {
        const x = join(a);
        const y = join(b);
        return {
          text: `i32.const 1 if ${x.text} else ${y.text} end`,
          relocs: [...x.relocs, ...y.relocs],
        };
      }),
  ),
}));

const HEADER = `
(import "env" "__indirect_function_table" (table $ft (@sym (name "__indirect_function_table")) 1 funcref))
(import "env" "g" (global $g (@sym (name "asm.g")) (mut i32)))
(import "env" "v" (func $v (@sym (name "asm.v"))))
(type $tv (func))
(func $r (@sym (name "asm.r")) (result i32) i32.const 7)
(table $t (@sym (name "asm.t")) 2 externref)
`;

Deno.test("random bodies: one relocation per (@reloc) immediate, in order, pointing at the same index", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stmt, { maxLength: 8 }), async (stmts) => {
      const body = join(stmts);
      const object = await assembleFragment(`${HEADER}(func $body (@sym) ${body.text})`);
      assert.ok(WebAssembly.validate(object as BufferSource), "the object is a valid module");
      const m = WasmModule.parse(object);
      const { symbols } = readLinking(m)!;
      const code = m.section(10)!.payload;
      const relocSection = m.section("reloc.CODE");
      const entries = relocSection ? readRelocs(m, relocSection).entries : [];
      assert.deepEqual(entries.map((e) => e.type), body.relocs);
      for (const e of entries) {
        const { value, length } = readU32(code, e.offset);
        assert.equal(length, 5, "padded to 5 bytes");
        if (e.type === Y) assert.equal(value, e.index);
        else assert.equal(symbols[e.index].index, value);
      }
    }),
    { numRuns: 150 },
  );
});
