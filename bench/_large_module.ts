/**
 * Generates a large (≥ 30 MB) valid module for the benchmarks: many functions with real
 * instruction streams, a data section, and DWARF-sized custom sections, like a debug build.
 * @module
 */
import { ByteWriter } from "../wasm/bytes.ts";

function section(w: ByteWriter, id: number, payload: Uint8Array): void {
  w.byte(id).sized(payload);
}

function custom(w: ByteWriter, name: string, size: number, seed: number): void {
  const body = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    body[i] = x >>> 24;
  }
  const payload = new ByteWriter().name(name).bytes(body).finish();
  section(w, 0, payload);
}

/** Builds a module of roughly `megabytes` MB; about 40% code, 60% custom sections. */
export function largeModule(megabytes = 32): Uint8Array {
  const functions = Math.round(megabytes * 1024 * 1024 * 0.4 / 400);
  const w = new ByteWriter().bytes(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  // type 0: (i32 i32) -> i32
  section(w, 1, new Uint8Array([1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]));
  const funcs = new ByteWriter().u32(functions);
  for (let i = 0; i < functions; i++) funcs.u32(0);
  section(w, 3, funcs.finish());
  section(w, 5, new Uint8Array([1, 0, 1]));
  section(w, 7, new ByteWriter().u32(1).name("f0").byte(0).u32(0).finish());
  const code = new ByteWriter().u32(functions);
  for (let i = 0; i < functions; i++) {
    const body = new ByteWriter().u32(1).u32(1).byte(0x7f); // one i32 local
    // ~400 bytes: local.get 0; i32.const k; i32.add; local.get 1; i32.xor; local.set 2 ...
    for (let k = 0; k < 40; k++) {
      body.byte(0x20).u32(0).byte(0x41).s32(i * 40 + k).byte(0x6a).byte(0x20).u32(1).byte(0x73);
      body.byte(0x21).u32(2);
    }
    body.byte(0x20).u32(2).byte(0x0b);
    code.sized(body.finish());
  }
  section(w, 10, code.finish());
  const data = new ByteWriter().u32(1).byte(0).byte(0x41).s32(1024).byte(0x0b).sized(
    new Uint8Array(30_000).fill(7),
  );
  section(w, 11, data.finish());
  const customBytes = megabytes * 1024 * 1024 * 0.6;
  const parts: [string, number][] = [
    [".debug_info", 0.35],
    [".debug_str", 0.25],
    [".debug_line", 0.2],
    [".debug_ranges", 0.1],
    ["name", 0.05],
    ["producers", 0.05],
  ];
  parts.forEach(([name, share], i) => custom(w, name, Math.round(customBytes * share), i + 1));
  return w.finish();
}

/** Writes the large module under bench/.data once and returns its path. */
export async function largeModulePath(megabytes = 32): Promise<string> {
  const dir = new URL("./.data/", import.meta.url).pathname;
  const path = `${dir}large_${megabytes}mb.wasm`;
  try {
    await Deno.stat(path);
  } catch {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeFile(path, largeModule(megabytes));
  }
  return path;
}
