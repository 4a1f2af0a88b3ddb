import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeS32,
  encodeS64,
  encodeU32,
  encodeU64,
  readS32,
  readS64,
  readU32,
  readU64,
  WasmParseError,
} from "../mod.ts";
import { ByteReader, ByteWriter } from "../wasm/bytes.ts";

Deno.test("LEB128 u32/s32 round-trip minimal and 5-byte padded forms", () => {
  fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (v) => {
    for (const pad of [0, 5]) {
      const b = encodeU32(v, pad);
      if (pad) assert.equal(b.length, 5);
      assert.deepEqual(readU32(b, 0), { value: v, length: b.length });
    }
  }));
  fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
    for (const pad of [0, 5]) {
      const b = encodeS32(v, pad);
      assert.deepEqual(readS32(b, 0), { value: v, length: b.length });
    }
  }));
});

Deno.test("LEB128 u64/s64 round-trip minimal and 10-byte padded forms", () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
    for (const pad of [0, 10]) {
      const b = encodeU64(v, pad);
      assert.deepEqual(readU64(b, 0), { value: v, length: b.length });
    }
  }));
  fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
    for (const pad of [0, 10]) {
      const b = encodeS64(v, pad);
      assert.deepEqual(readS64(b, 0), { value: v, length: b.length });
    }
  }));
});

Deno.test("LEB128 known encodings match the spec examples", () => {
  assert.deepEqual([...encodeU32(624485)], [0xe5, 0x8e, 0x26]);
  assert.deepEqual([...encodeS32(-123456)], [0xc0, 0xbb, 0x78]);
  assert.deepEqual([...encodeS32(-1, 5)], [0xff, 0xff, 0xff, 0xff, 0x7f]);
  assert.deepEqual([...encodeS32(63, 5)], [0xbf, 0x80, 0x80, 0x80, 0x00]);
  assert.deepEqual([...encodeU64(1n, 10)], [
    0x81,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x80,
    0x00,
  ]);
});

Deno.test("LEB128 rejects numbers longer than allowed or out of range", () => {
  assert.throws(
    () => readU32(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 0),
    /longer than 5 bytes/,
  );
  assert.throws(
    () => readU32(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]), 0),
    /does not fit in 32 bits/,
  );
  assert.throws(() => readS32(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x4f]), 0), /does not fit/);
  assert.throws(() => readU64(new Uint8Array(11).fill(0x80), 0), /longer than 10 bytes/);
  assert.throws(() => readU32(new Uint8Array([0x80, 0x80]), 0), WasmParseError);
  assert.throws(() => readU32(new Uint8Array([0x80, 0x80]), 0), /Unexpected end/);
});

Deno.test("ByteReader.u32 and ByteWriter.u32 (in-place fast paths) agree with readU32/encodeU32", () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 5 }), (v, pad) => {
      const padTo = pad === 0 ? 0 : Math.max(pad, encodeU32(v).length);
      const bytes = encodeU32(v, padTo);
      const r = new ByteReader(new Uint8Array([0x7f, ...bytes, 0x7f]));
      r.u8();
      assert.equal(r.u32(), v);
      assert.equal(r.pos, 1 + bytes.length);
      assert.deepEqual(new ByteWriter().u32(v).finish(), encodeU32(v));
    }),
  );
  // Malformed numbers still get the checked decoder's errors, rebased to the file offset.
  for (
    const bad of [[0xff, 0xff, 0xff, 0xff, 0x1f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], [0x80]]
  ) {
    const bytes = new Uint8Array(bad);
    const expected = (() => {
      try {
        readU32(bytes, 0);
      } catch (e) {
        return e as WasmParseError;
      }
    })()!;
    assert.throws(() => new ByteReader(bytes, 100).u32(), (e) => {
      assert.ok(e instanceof WasmParseError);
      assert.equal(e.offset, expected.offset + 100);
      assert.equal(e.detail, expected.detail);
      return true;
    });
  }
  assert.throws(() => new ByteWriter().u32(-1), RangeError);
  assert.throws(() => new ByteWriter().u32(2 ** 32), RangeError);
});
