import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { isArchive, readArchive, writeArchive } from "../wasm/archive.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { scanInput } from "../linker/scan.ts";
import { UsageError } from "../errors.ts";
import { fixture, needs, run, rustLld, thrown, tool } from "./_tools.ts";

const LLVM_AR = tool("llvm-ar-19") ?? tool("llvm-ar");
const STD = "/usr/lib/rustlib/wasm32-unknown-unknown/lib";
const rlib = (prefix: string) =>
  existsSync(STD)
    ? [...Deno.readDirSync(STD)].find((e) => e.name.startsWith(prefix))?.name
    : undefined;
const LIBCORE = rlib("libcore-");

const MAIN_O = Deno.readFileSync(fixture("c_objects/main.o"));
const UTIL_O = Deno.readFileSync(fixture("c_objects/util.o"));

/** Builds an archive with llvm-ar in `format` from a long-named, an odd-sized and a short member. */
async function llvmArchive(format: "gnu" | "bsd"): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a-member-with-a-long-name.o`, MAIN_O);
    await Deno.writeTextFile(`${dir}/odd.txt`, "odd");
    await Deno.writeFile(`${dir}/u.o`, UTIL_O);
    await run(LLVM_AR!, [
      "rcs",
      `--format=${format}`,
      "lib.a",
      "a-member-with-a-long-name.o",
      "odd.txt",
      "u.o",
    ], { cwd: dir });
    return await Deno.readFile(`${dir}/lib.a`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const format of ["gnu", "bsd"] as const) {
  Deno.test(
    `readArchive() reads llvm-ar's ${format} form: names, odd sizes, symbol table`,
    needs(LLVM_AR),
    async () => {
      const bytes = await llvmArchive(format);
      assert.ok(isArchive(bytes));
      const { members, symbols } = readArchive(bytes, "lib.a");
      assert.deepEqual(members.map((m) => m.name), [
        "a-member-with-a-long-name.o",
        "odd.txt",
        "u.o",
      ]);
      assert.deepEqual(members[0].data, MAIN_O);
      assert.equal(new TextDecoder().decode(members[1].data), "odd");
      assert.deepEqual(members[2].data, UTIL_O);
      // Members are views of the input, not copies.
      assert.equal(members[0].data.buffer, bytes.buffer);
      const byName = new Map(symbols!.map((s) => [s.name, members[s.member].name]));
      assert.equal(byName.get("apply"), "a-member-with-a-long-name.o");
      assert.equal(byName.get("word_length"), "u.o");
    },
  );
}

Deno.test(
  "writeArchive() output is read back by llvm-ar and by readArchive()",
  needs(LLVM_AR),
  async () => {
    const members = [
      { name: "short.o", data: UTIL_O },
      { name: "odd", data: new Uint8Array([1, 2, 3]) },
      { name: "a-name-longer-than-fifteen.o", data: MAIN_O },
    ];
    const bytes = writeArchive(members, [{ name: "apply", member: 2 }, {
      name: "word_length",
      member: 0,
    }]);
    const dir = await Deno.makeTempDir();
    await Deno.writeFile(`${dir}/w.a`, bytes);
    const listed = (await run(LLVM_AR!, ["t", `${dir}/w.a`])).trim().split("\n");
    assert.deepEqual(listed, members.map((m) => m.name));
    const printed = await new Deno.Command(LLVM_AR!, {
      args: ["p", `${dir}/w.a`, "a-name-longer-than-fifteen.o"],
      stdout: "piped",
    }).output();
    assert.deepEqual(printed.stdout, MAIN_O);
    await Deno.remove(dir, { recursive: true });
    const back = readArchive(bytes);
    assert.deepEqual(
      back.members.map((m) => [m.name, m.data.length]),
      members.map((m) => [m.name, m.data.length]),
    );
    assert.deepEqual(back.symbols, [{ name: "apply", member: 2 }, {
      name: "word_length",
      member: 0,
    }]);
  },
);

Deno.test("writeArchive() is deterministic", () => {
  const members = [{ name: "x.o", data: UTIL_O }];
  assert.deepEqual(writeArchive(members, []), writeArchive(members, []));
});

Deno.test("readArchive() names the offset of a truncated or corrupt archive", () => {
  const bytes = writeArchive([{ name: "x.o", data: UTIL_O }]);
  const cut = thrown(() => readArchive(bytes.subarray(0, bytes.length - 10), "x.a"));
  assert.ok(cut instanceof WasmParseError);
  assert.match(cut.message, /runs past the end of the file.*\(at offset 0x8\)/);
  assert.equal(cut.file, "x.a");
  const broken = bytes.slice();
  broken[8 + 58] = 0x41;
  assert.match((thrown(() => readArchive(broken)) as Error).message, /does not end with/);
  const notAr = thrown(() => readArchive(new Uint8Array([0, 0x61, 0x73, 0x6d])));
  assert.ok(notAr instanceof WasmParseError);
});

Deno.test(
  "scanInput() drops lib.rmeta from a real rlib and keeps its symbol index",
  needs(LIBCORE),
  () => {
    const bytes = Deno.readFileSync(`${STD}/${LIBCORE}`);
    const original = readArchive(bytes);
    const { scan, cleaned, objects } = scanInput(LIBCORE!, bytes);
    assert.deepEqual(scan.dropped, ["lib.rmeta"]);
    assert.equal(objects.length, original.members.length - 1);
    const copy = readArchive(cleaned!);
    assert.deepEqual(
      copy.members.map((m) => m.name),
      original.members.filter((m) => m.name !== "lib.rmeta").map((m) => m.name),
    );
    const named = (a: typeof original) =>
      a.symbols!.map((s) => `${s.name}@${a.members[s.member].name}`);
    assert.deepEqual(named(copy), named(original));
  },
);

Deno.test(
  "LLD 22 refuses Debian rustc 1.63 rlibs under --fatal-warnings and takes the cleaned copy",
  needs(LIBCORE, rustLld()),
  async () => {
    const dir = await Deno.makeTempDir();
    const lld = rustLld()!;
    const base = [
      "-flavor",
      "wasm",
      "--fatal-warnings",
      "--no-entry",
      "--allow-undefined",
      "-o",
      `${dir}/out.wasm`,
    ];
    // Pull one member in through an undefined symbol, as a real link does.
    const original = `${STD}/${LIBCORE}`;
    const symbol =
      readArchive(Deno.readFileSync(original)).symbols!.find((s) => s.name.includes("fmt"))!.name;
    const refused = await new Deno.Command(lld, {
      args: [...base, `--undefined=${symbol}`, original],
      stderr: "piped",
    }).output();
    assert.equal(refused.success, false);
    assert.match(new TextDecoder().decode(refused.stderr), /lib\.rmeta/);
    const { cleaned } = scanInput(original, Deno.readFileSync(original));
    await Deno.writeFile(`${dir}/core.a`, cleaned!);
    await run(lld, [...base, `--undefined=${symbol}`, `--export=${symbol}`, `${dir}/core.a`]);
    assert.ok(Deno.statSync(`${dir}/out.wasm`).size > 0);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("scanInput() refuses an archive with ELF members, naming the member", () => {
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const bytes = writeArchive([{ name: "native.o", data: elf }]);
  const e = thrown(() => scanInput("libnative.a", bytes));
  assert.ok(e instanceof UsageError);
  assert.match(e.message, /"libnative\.a\(native\.o\)".*ELF/);
});

Deno.test("scanInput() passes a thin archive through unscanned", () => {
  const thin = new TextEncoder().encode("!<thin>\n");
  const { scan, cleaned, objects } = scanInput("libthin.a", thin);
  assert.equal(scan.unscanned, true);
  assert.equal(cleaned, undefined);
  assert.deepEqual(objects, []);
});
