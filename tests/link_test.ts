import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { link, type LinkOptions } from "../linker/link.ts";
import { FragmentErrors, LinkerFailedError } from "../errors.ts";
import { checkInputs } from "../linker/check.ts";
import { decodeFormatRecord, encodeFormatRecord, splitRecords } from "../linker/guards.ts";
import { UsageError } from "../errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";
import { fixture, needs, rustcWasm32, rustLld, tool } from "./_tools.ts";

const LLD = rustLld();
const RUSTC_163 = tool("/usr/bin/rustc");
const OBJECT = fixture("link/externref/externref.o");
/** The same crate built with `--cfg linkpass_tests`: js_bindgen.test records, no `main`. */
const TESTS_OBJECT = fixture("link/externref/externref_tests.o");
/** The flags rustc 1.63 passes for a cdylib (tests/fixtures/link/cmdlines). */
const RUSTC_FLAGS = [
  "-flavor",
  "wasm",
  "--rsp-quoting=posix",
  "--export",
  "run",
  "--export=__heap_base",
  "--export=__data_end",
  "-z",
  "stack-size=1048576",
  "--stack-first",
  "--allow-undefined",
  "--fatal-warnings",
  "--no-demangle",
  "--no-entry",
  "--export-dynamic",
];

function record(bytes: Uint8Array | string): Uint8Array {
  const body = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length, true);
  out.set(body, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The fixture object with extra custom sections appended. */
function objectWith(sections: [string, Uint8Array][]): Uint8Array {
  const m = WasmModule.parse(Deno.readFileSync(OBJECT));
  for (const [name, payload] of sections) m.addCustomSection(name, payload);
  return m.toBytes();
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "linkpass_link_" });
}

function linkIn(dir: string, args: string[], extra: Partial<LinkOptions> = {}) {
  const warnings: string[] = [];
  return {
    warnings,
    result: link({ args, cwd: dir, config: {}, onWarning: (l) => warnings.push(l), ...extra }),
  };
}

interface Demo {
  exports: Record<string, (...args: number[]) => number>;
  log: string[];
  table: WebAssembly.Table;
}

/** Instantiates a linked module with hand-written imports (the glue's job, done by the test). */
async function instantiate(bytes: Uint8Array): Promise<Demo> {
  // js-bindgen's default --max-memory (4 GiB: 65536 pages) is on the import.
  const memory = new WebAssembly.Memory({ initial: 17, maximum: 65536 });
  const table = new WebAssembly.Table({ initial: 1, element: "externref" as "anyfunc" });
  const log: string[] = [];
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {
    js_bindgen: { memory },
    demo: {
      log: (p: number, l: number) =>
        log.push(new TextDecoder().decode(new Uint8Array(memory.buffer, p, l))),
      make: (n: number) => ({ n }),
      describe: (v: { n: number } | null) => (v === null ? -1 : v.n * 10),
    },
    js_sys: { "externref.table": table },
  });
  return { exports: instance.exports as Demo["exports"], log, table };
}

/** The helpers of the fixture's WAT fragment, written as a plain module. */
const PLAIN_WAT = `(module
  (import "js_sys" "externref.table" (table $t 1 externref))
  (import "demo" "make" (func $make (param i32) (result externref)))
  (import "demo" "describe" (func $describe (param externref) (result i32)))
  (func (export "js_sys.externref.grow") (param $size i32) (result i32)
    ref.null extern
    local.get $size
    table.grow $t)
  (func (export "js_sys.externref.size") (result i32) table.size $t)
  (func (export "js_sys.externref.insert_made") (param $n i32) (result i32) (local $idx i32)
    ref.null extern
    i32.const 1
    table.grow $t
    local.set $idx
    local.get $idx
    local.get $n
    call $make
    table.set $t
    local.get $idx)
  (func (export "js_sys.externref.describe") (param $idx i32) (result i32)
    local.get $idx
    table.get $t
    call $describe)
  (func (export "js_sys.externref.remove") (param $idx i32)
    local.get $idx
    ref.null extern
    table.set $t))`;

/** Drives the helpers through one sequence and returns every result. */
function exercise(e: Demo["exports"]): number[] {
  const out = [e["js_sys.externref.size"]()];
  const a = e["js_sys.externref.insert_made"](4);
  const b = e["js_sys.externref.insert_made"](7);
  out.push(a, b, e["js_sys.externref.describe"](a), e["js_sys.externref.describe"](b));
  e["js_sys.externref.remove"](a);
  out.push(e["js_sys.externref.describe"](a), e["js_sys.externref.grow"](3));
  out.push(e["js_sys.externref.size"](), e["js_sys.externref.describe"](b));
  return out;
}

Deno.test(
  "link() assembles embedded WAT, links with rust-lld and the module runs",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    const { result, warnings } = linkIn(dir, [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"]);
    const r = await result;
    assert.deepEqual(warnings, []);
    assert.deepEqual(r.objects, { total: 1, assembled: 1 });
    const bytes = await Deno.readFile(`${dir}/app.wasm`);
    const module = WasmModule.parse(bytes);
    const names = module.customSections().map((s) => s.name);
    // The records are consumed; js-bindgen's markers and its JS output come last, in its order.
    assert.deepEqual(
      names.filter((n) => n.startsWith("js_bindgen.") || n.startsWith("linkpass.")),
      ["js_bindgen.is_compat", "js_bindgen.js_output"],
    );
    assert.deepEqual(names.slice(-2), ["js_bindgen.is_compat", "js_bindgen.js_output"]);
    const memory = readImports(module).find((i) => i.kind === "memory");
    assert.deepEqual([memory?.module, memory?.name], ["js_bindgen", "memory"]);
    assert.equal(memory?.kind === "memory" && memory.memory.max, 65536n);
    const demo = await instantiate(bytes);
    assert.equal(demo.exports.run(), 1193);
    assert.deepEqual(demo.log, ["described:", "110", "after remove:", "-1", "size:", "6"]);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "the generated glue supplies the JS of js_bindgen.import/embed and the module runs",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    const r = await linkIn(dir, [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"]).result;
    assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)).sort(), ["app.d.ts", "app.js"]);
    const glue = await import(`file://${dir}/app.js`);
    const logged: unknown[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => logged.push(args.join(" "));
    try {
      const { exports } = await glue.instantiate(await Deno.readFile(`${dir}/app.wasm`));
      assert.equal(exports.run(), 1193);
    } finally {
      console.log = log;
    }
    assert.deepEqual(logged, ["described:", "110", "after remove:", "-1", "size:", "6"]);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "the assembled externref helpers behave like the same functions in plain WAT",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    await linkIn(dir, [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"]).result;
    const linked = await instantiate(await Deno.readFile(`${dir}/app.wasm`));
    const { default: wabtInit } = await import("wabt");
    const wabt = await wabtInit();
    const parsed = wabt.parseWat("plain.wat", PLAIN_WAT, { reference_types: true });
    const plainBytes = parsed.toBinary({}).buffer;
    parsed.destroy();
    const plain = await instantiate(plainBytes);
    const fromLinked = exercise(linked.exports);
    assert.deepEqual(fromLinked, exercise(plain.exports));
    assert.deepEqual(fromLinked, [1, 1, 2, 40, 70, -1, 3, 6, 70]);
    assert.equal(linked.table.length, plain.table.length);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "a re-link reuses the cache, writes the same bytes, rebuilds corrupt entries and drops stale ones",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    const args = [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"];
    await linkIn(dir, args).result;
    const first = await Deno.readFile(`${dir}/app.wasm`);
    const objects = `${dir}/.linkpass/objects`;
    const [entry] = [...Deno.readDirSync(objects)].map((e) => e.name);

    const again = await linkIn(dir, args).result;
    assert.deepEqual(again.objects, { total: 1, assembled: 0 });
    assert.deepEqual(await Deno.readFile(`${dir}/app.wasm`), first);

    // Corrupt the cached object: it is rebuilt, never linked.
    await Deno.writeFile(
      `${objects}/${entry}`,
      new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff]),
    );
    const rebuilt = await linkIn(dir, args).result;
    assert.equal(rebuilt.objects.assembled, 1);
    assert.deepEqual(await Deno.readFile(`${dir}/app.wasm`), first);

    // Another directory (another cache) gives the same bytes too.
    const other = await tempDir();
    await linkIn(other, args).result;
    assert.deepEqual(await Deno.readFile(`${other}/app.wasm`), first);
    assert.equal(
      await Deno.readTextFile(`${other}/app.js`),
      await Deno.readTextFile(`${dir}/app.js`),
    );
    await Deno.remove(other, { recursive: true });

    // An entry no output uses any more is removed.
    await Deno.writeFile(`${objects}/0000-stale.o`, new Uint8Array([1]));
    const hourAgo = new Date(Date.now() - 3600_000);
    await Deno.utime(`${objects}/0000-stale.o`, hourAgo, hourAgo);
    await linkIn(dir, args).result;
    assert.deepEqual([...Deno.readDirSync(objects)].map((e) => e.name), [entry]);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "link() drops the marker libraries that make a plain linker fail",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    const args = [
      ...RUSTC_FLAGS,
      OBJECT,
      "-l",
      "linkpass-needs-linkpass-ld",
      "-ljs-bindgen-needs-js-bindgen-ld",
      "-o",
      "app.wasm",
    ];
    await linkIn(dir, args).result;
    assert.ok(existsSync(`${dir}/app.wasm`));
    const plain = await new Deno.Command(LLD!, { args, cwd: dir, stderr: "piped" }).output();
    assert.equal(plain.success, false);
    assert.match(
      new TextDecoder().decode(plain.stderr),
      /unable to find library -llinkpass-needs-linkpass-ld/,
    );
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("link() stops on a native object before doing anything, saying what it got", async () => {
  const dir = await tempDir();
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  await Deno.writeFile(`${dir}/main.o`, elf);
  const e = await linkIn(dir, ["-flavor", "wasm", "main.o", "-o", "app.wasm"], {
    env: () => undefined, // no PATH: finding a linker would fail if it were tried
  }).result.catch((e) => e);
  assert.ok(e instanceof UsageError, String(e));
  assert.match(e.message, /"main\.o".*ELF file/);
  assert.deepEqual([...Deno.readDirSync(dir)].map((d) => d.name), ["main.o"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("link() refuses another flavor", async () => {
  const e = await link({ args: ["-flavor", "gnu", "main.o"], config: {} }).catch((e) => e);
  assert.ok(e instanceof UsageError);
  assert.match(e.message, /"-flavor gnu"/);
});

Deno.test("link() refuses an unknown format version, naming the crate and the versions supported", async () => {
  const dir = await tempDir();
  await Deno.writeFile(
    `${dir}/new.o`,
    objectWith([["linkpass.format", record(encodeFormatRecord({ crate: "js-sys", version: 9 }))]]),
  );
  const e = await linkIn(dir, ["new.o", "-o", "app.wasm"]).result.catch((e) => e);
  assert.ok(e instanceof UsageError);
  assert.match(
    e.message,
    /crate "js-sys" \(in new\.o\) uses format version 9; this linkpass supports version 1/,
  );
  assert.ok(!existsSync(`${dir}/app.wasm`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("link() forwards unknown options with a warning", needs(LLD), async () => {
  const dir = await tempDir();
  const { result, warnings } = linkIn(dir, [
    ...RUSTC_FLAGS,
    "--frobnicate",
    OBJECT,
    "-o",
    "app.wasm",
  ]);
  const e = await result.catch((e) => e);
  assert.deepEqual(warnings, [
    'unknown wasm-ld option "--frobnicate": passed on to the linker unchanged',
  ]);
  assert.ok(e instanceof LinkerFailedError);
  assert.match(e.stderr, /unknown argument: --frobnicate/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("link() takes a response file and hands the linker its own", needs(LLD), async () => {
  const dir = await tempDir();
  const words = [...RUSTC_FLAGS.slice(2), OBJECT, "-o", "out dir/app.wasm"];
  await Deno.mkdir(`${dir}/out dir`);
  await Deno.writeTextFile(`${dir}/args.rsp`, words.map((w) => `"${w}"`).join(" "));
  const r = await linkIn(dir, ["-flavor", "wasm", "@args.rsp"]).result;
  assert.equal(r.linkerArgs.length, 4);
  assert.match(r.linkerArgs[3], /^@.*\.rsp$/);
  assert.equal(
    (await instantiate(await Deno.readFile(`${dir}/out dir/app.wasm`))).exports.run(),
    1193,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("link() runs the passes configured in LINKPASS_CONFIG", needs(LLD), async () => {
  const dir = await tempDir();
  const args = [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"];
  const config = JSON.stringify({
    passes: { "strip-custom-sections": { remove: ["debug"] } },
  });
  await link({ args, cwd: dir, env: (n) => n === "LINKPASS_CONFIG" ? config : Deno.env.get(n) });
  const names = WasmModule.parse(await Deno.readFile(`${dir}/app.wasm`)).customSections().map((s) =>
    s.name
  );
  assert.ok(!names.some((n) => n.startsWith(".debug")), names.join());
  assert.ok(names.includes("name"));
  const bad = JSON.stringify({ passes: { "no-such-pass": true } });
  const e = await link({
    args,
    cwd: dir,
    env: (n) => n === "LINKPASS_CONFIG" ? bad : Deno.env.get(n),
  })
    .catch((e) => e);
  assert.ok(e instanceof UsageError);
  assert.match(e.message, /Unknown pass "no-such-pass" in LINKPASS_CONFIG/);
  await Deno.remove(dir, { recursive: true });
});

const BAD_WAT_1 = "(func $a (@sym) (result i32)\n  i32.const 1\n  i32.ad)";
const BAD_WAT_2 = "(func $b (@sym)\n  call $missing (@reloc))";

Deno.test("link() reports every fragment that does not assemble, with code frames", async () => {
  const dir = await tempDir();
  await Deno.writeFile(
    `${dir}/bad.o`,
    objectWith([["js_bindgen.wat", concat(record(BAD_WAT_1), record(BAD_WAT_2))]]),
  );
  const e = await linkIn(dir, ["bad.o", "-o", "app.wasm"]).result.catch((e) => e);
  assert.ok(e instanceof FragmentErrors, String(e));
  assert.equal(e.errors.length, 2);
  assert.match(e.errors[0].message, /record 1.*bad\.o.*3:3/);
  assert.match(e.errors[1].message, /record 2/);
  assert.ok(e.errors.every((x: { frame: string }) => x.frame.includes("^")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkInputs() reports WAT, JS and record errors together without linking", async () => {
  const dir = await tempDir();
  const badJs = concat(
    new Uint8Array([4, 0]),
    new TextEncoder().encode("demo"),
    new Uint8Array([3, 0]),
    new TextEncoder().encode("bad"),
    new Uint8Array([0]),
    new TextEncoder().encode("(x) => {"),
  );
  await Deno.writeFile(
    `${dir}/bad.o`,
    objectWith([
      ["js_bindgen.wat", concat(record(BAD_WAT_1), record(BAD_WAT_2))],
      ["js_bindgen.import", record(badJs)],
      ["js_bindgen.embed", new Uint8Array([9, 0, 0])],
    ]),
  );
  const report = await checkInputs([`${dir}/bad.o`, OBJECT]);
  assert.equal(report.fragments, 4);
  const messages = report.problems.map((p) => p.message);
  assert.equal(messages.length, 4, messages.join("\n"));
  assert.ok(
    messages.some((m) => /Invalid JS in js_bindgen\.import record 1 .*"demo"\/"bad"/.test(m)),
  );
  assert.ok(messages.some((m) => /js_bindgen\.embed/.test(m)), messages.join("\n"));
  assert.equal(messages.filter((m) => /js_bindgen\.wat record [12] .*bad\.o/.test(m)).length, 2);
  const clean = await checkInputs([OBJECT]);
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.snippets, 5);
  await Deno.remove(dir, { recursive: true });
});

Deno.test(
  "rustc 1.63 links a crate through a linkpass shim (end to end)",
  needs(RUSTC_163, LLD),
  async () => {
    const dir = await tempDir();
    const shim = `${dir}/linkpass-ld`;
    const cli = new URL("../cli.ts", import.meta.url).pathname;
    await Deno.writeTextFile(shim, `#!/bin/sh\nexec deno run -A "${cli}" link "$@"\n`, {
      mode: 0o755,
    });
    const out = await rustcWasm32(shim, [
      "--crate-type",
      "cdylib",
      "-O",
      "-C",
      "lto=fat",
      "-C",
      "panic=abort",
      "-C",
      "target-feature=+reference-types",
      fixture("link/externref/lib.rs"),
      "-o",
      `${dir}/app.wasm`,
    ], dir);
    assert.ok(out.success, out.stderr);
    const demo = await instantiate(await Deno.readFile(`${dir}/app.wasm`));
    assert.equal(demo.exports.run(), 1193);
    // compiler_builtins (with its lib.rmeta; fat LTO took in core) went to LLD 22 cleaned.
    assert.equal([...Deno.readDirSync(`${dir}/.linkpass/archives`)].length, 1);
    await Deno.remove(dir, { recursive: true });
  },
);

for (
  const [how, flags] of [["with -mwasm64", ["-mwasm64"]], ["detecting wasm64 objects", []]] as const
) {
  Deno.test(
    `link() ${how} assembles 64-bit fragments and the module runs`,
    needs(LLD),
    async () => {
      const { assembleModule } = await import("../asm/mod.ts");
      const dir = await tempDir();
      const main = await assembleModule(
        `(module (@rwat)
      (import "env" "w64.add" (func $w64.add (@sym (name "w64.add")) (param i64 i64) (result i64)))
      (func $run (@sym) (result i64) i64.const 40 i64.const 2 call $w64.add (@reloc)))`,
        { target: "wasm64" },
      );
      const fragment =
        `(func $w64.add (@sym (name "w64.add")) (param i64 i64) (result i64) local.get 0 local.get 1 i64.add)`;
      const m = WasmModule.parse(main);
      m.addCustomSection("js_bindgen.wat", record(fragment));
      await Deno.writeFile(`${dir}/main64.o`, m.toBytes());
      const r = await linkIn(dir, [
        ...flags,
        "--no-entry",
        "--export=run",
        "main64.o",
        "-o",
        "m64.wasm",
      ])
        .result;
      assert.deepEqual(r.objects, { total: 1, assembled: 1 });
      assert.ok(r.linkerArgs.includes("-mwasm64"));
      const linked = await Deno.readFile(`${dir}/m64.wasm`);
      // The memory layout (so the initial size) is LLD's choice and differs between versions.
      const imported = readImports(WasmModule.parse(linked)).find((i) => i.kind === "memory");
      assert.ok(imported?.kind === "memory" && imported.memory.is64, "a 64-bit memory import");
      // js-bindgen's wasm64 default --max-memory: 16 GiB.
      assert.equal(imported.memory.max, 17179869184n / 65536n);
      const memory = new WebAssembly.Memory(
        {
          initial: BigInt(imported.memory.min),
          maximum: imported.memory.max,
          address: "i64",
        } as unknown as WebAssembly.MemoryDescriptor,
      );
      const { instance } = await WebAssembly.instantiate(
        linked as BufferSource,
        { js_bindgen: { memory } },
      );
      assert.equal((instance.exports.run as () => bigint)(), 42n);
      await Deno.remove(dir, { recursive: true });
    },
  );
}

Deno.test(
  "link() runs the linker that --linker or LINKPASS_LINKER names",
  needs(LLD, tool("wasm-ld-14")),
  async () => {
    const dir = await tempDir();
    const args = [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"];
    const viaEnv = await link({
      args,
      cwd: dir,
      config: {},
      env: (n) => n === "LINKPASS_LINKER" ? "wasm-ld-14" : Deno.env.get(n),
    });
    assert.equal(viaEnv.linker.source, "LINKPASS_LINKER");
    assert.match(viaEnv.linker.path, /wasm-ld-14$/); // LLD 14: no --import-memory=module,name
    assert.equal((await instantiate(await Deno.readFile(`${dir}/app.wasm`))).exports.run(), 1193);
    const missing = await link({
      args: [...args, "--linker", "/nonexistent/ld"],
      cwd: dir,
      config: {},
    })
      .catch((e) => e);
    assert.ok(missing instanceof UsageError);
    assert.match(missing.message, /"\/nonexistent\/ld" given by --linker/);
    await Deno.remove(dir, { recursive: true });
  },
);

const CARGO_165 = tool("/usr/bin/cargo");

Deno.test(
  "cargo build with the installed linkpass-ld gives app.wasm + app.js",
  needs(RUSTC_163, CARGO_165, LLD),
  async () => {
    const dir = await tempDir();
    const root = new URL("..", import.meta.url).pathname;
    // The documented install line, into a private root.
    const install = await new Deno.Command(Deno.execPath(), {
      args: [
        "install",
        "-g",
        "-A",
        "-f",
        "--config",
        `${root}deno.json`,
        "-n",
        "linkpass-ld",
        "--root",
        `${dir}/deno`,
        `${root}bin/linkpass_ld.ts`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(install.success, new TextDecoder().decode(install.stderr));
    await Deno.mkdir(`${dir}/crate/.cargo`, { recursive: true });
    for (const f of ["Cargo.toml", "lib.rs"]) {
      await Deno.copyFile(fixture(`link/externref/${f}`), `${dir}/crate/${f}`);
    }
    await Deno.writeTextFile(
      `${dir}/crate/.cargo/config.toml`,
      `[target.wasm32-unknown-unknown]
linker = "linkpass-ld"
rustflags = ["-C", "linker-flavor=wasm-ld", "-C", "target-feature=+reference-types"]
`,
    );
    const build = await new Deno.Command("/usr/bin/cargo", {
      args: ["build", "--offline", "--release", "--target", "wasm32-unknown-unknown"],
      cwd: `${dir}/crate`,
      env: { RUSTC: "/usr/bin/rustc", PATH: `${dir}/deno/bin:${Deno.env.get("PATH")}` },
      stderr: "piped",
    }).output();
    assert.ok(build.success, new TextDecoder().decode(build.stderr));
    const out = `${dir}/crate/target/wasm32-unknown-unknown/release`;
    const glue = await import(`file://${out}/externref_demo.js`);
    const log = console.log;
    const logged: unknown[] = [];
    console.log = (...args: unknown[]) => logged.push(args.join(" "));
    try {
      const { exports } = await glue.instantiate(await Deno.readFile(`${out}/externref_demo.wasm`));
      assert.equal(exports.run(), 1193);
    } finally {
      console.log = log;
    }
    assert.equal(logged.length, 6);
    await Deno.remove(dir, { recursive: true });
  },
);

// The link's js-glue pass turns the snippet records into app.js and removes them; `linkpass run`
// then loads that sibling glue.

/** Runs `linkpass run` on a module; returns exit code and output. */
async function linkpassRun(wasm: string, args: string[] = []) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli.ts", import.meta.url).pathname, "run", wasm, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test(
  "a linked binary runs under linkpass run and prints the expected output",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    await linkIn(dir, [...RUSTC_FLAGS, "--export=main", OBJECT, "-o", "app.wasm"]).result;
    const { code, stdout, stderr } = await linkpassRun(`${dir}/app.wasm`);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "described:\n110\nafter remove:\n-1\nsize:\n6\nchecksum:\n1193\n");
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "cargo-style tests of a linked module pass through linkpass run",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    await linkIn(dir, [...RUSTC_FLAGS, TESTS_OBJECT, "-o", "tests.wasm"]).result;
    const names = WasmModule.parse(await Deno.readFile(`${dir}/tests.wasm`)).customSections()
      .map((s) => s.name);
    assert.ok(names.includes("js_bindgen.test"), "js_bindgen.test is kept for the runner");
    const { code, stdout, stderr } = await linkpassRun(`${dir}/tests.wasm`);
    assert.equal(code, 0, stdout + stderr);
    for (
      const line of [
        "test tests::insert_and_describe ... ok",
        "test tests::removed_slot_is_null ... ok",
        "test tests::out_of_bounds_traps - should panic ... ok",
        "test tests::ignored_needs_host ... ignored, needs a host",
        "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out",
      ]
    ) assert.ok(stdout.includes(line), `missing "${line}" in:\n${stdout}`);
    await Deno.remove(dir, { recursive: true });
  },
);

/** Runs the CLI; returns exit code and output with the temp dir replaced by `<dir>`. */
async function cli(args: string[], dir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli.ts", import.meta.url).pathname, ...args],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).replaceAll(dir, "<dir>");
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("linkpass check prints every problem with its frame and exits 1", async (t) => {
  const dir = await tempDir();
  await Deno.writeFile(
    `${dir}/bad.o`,
    objectWith([["js_bindgen.wat", concat(record(BAD_WAT_1), record(BAD_WAT_2))]]),
  );
  const r = await cli(["check", "bad.o"], dir);
  assert.equal(r.code, 1);
  await t.assertSnapshot(r);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("linkpass link prints one error line for a guard and exits 2", async (t) => {
  const dir = await tempDir();
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  await Deno.writeFile(`${dir}/main.o`, elf);
  const r = await cli(["link", "-flavor", "wasm", "main.o", "-o", "app.wasm"], dir);
  assert.equal(r.code, 2);
  await t.assertSnapshot(r);
  await Deno.remove(dir, { recursive: true });
});

Deno.test(
  "conflicting JS records fail the link, name both records and leave no output",
  needs(LLD),
  async () => {
    const dir = await tempDir();
    const conflicting = concat(
      new Uint8Array([4, 0]),
      new TextEncoder().encode("demo"),
      new Uint8Array([4, 0]),
      new TextEncoder().encode("make"),
      new Uint8Array([0]),
      new TextEncoder().encode("(n) => n"),
    );
    await Deno.writeFile(`${dir}/dup.o`, objectWith([["js_bindgen.import", record(conflicting)]]));
    const e = await linkIn(dir, [...RUSTC_FLAGS, "dup.o", "-o", "app.wasm"]).result.catch((e) => e);
    const { describeError } = await import("../errors.ts");
    const described = describeError(e);
    assert.ok(described, String(e));
    assert.match(
      described.message,
      /^Conflicting JS for import "demo"\/"make": record \d of "dup\.o" says .*, record \d of "dup\.o" says "\(n\) => n"/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((d) => d.name).sort(), [".linkpass", "dup.o"]);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("link() reads the linkpass key of the nearest deno.jsonc", needs(LLD), async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(
    `${dir}/deno.jsonc`,
    `{
  // passes after the link
  "linkpass": { "passes": { "strip-custom-sections": { "remove": ["debug"] } }, },
}`,
  );
  await Deno.mkdir(`${dir}/sub`);
  await link({
    args: [...RUSTC_FLAGS, OBJECT, "-o", "app.wasm"],
    cwd: `${dir}/sub`,
    env: (n) => n === "LINKPASS_CONFIG" ? undefined : Deno.env.get(n),
  });
  const names = WasmModule.parse(await Deno.readFile(`${dir}/sub/app.wasm`)).customSections()
    .map((s) => s.name);
  assert.ok(!names.some((n) => n.startsWith(".debug")), names.join());
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the format record of the README decodes as version 1 of js-sys", () => {
  const section = new TextEncoder().encode("\x0a\x00\x00\x00\x06\x00js-sys\x01\x00");
  const [rec] = splitRecords(section, "linkpass.format");
  assert.deepEqual(decodeFormatRecord(rec), { crate: "js-sys", version: 1 });
});

Deno.test("the cache keeps fresh entries of running links and drops those of deleted outputs", async () => {
  const { LinkCache } = await import("../linker/cache.ts");
  const dir = await tempDir();
  const cacheDir = `${dir}/.linkpass`;
  // Output a: stores an entry, links, then the output is deleted.
  await Deno.writeFile(`${dir}/a.wasm`, new Uint8Array([0]));
  const a = await LinkCache.open(`${dir}/a.wasm`, cacheDir);
  const { name } = await a.store("objects", "aaaa", "o", new Uint8Array([1, 2, 3]));
  await a.finish();
  await Deno.remove(`${dir}/a.wasm`);
  // Output b, linking now: a's manifest and entry are younger than the grace period: kept.
  await Deno.writeFile(`${dir}/b.wasm`, new Uint8Array([0]));
  assert.equal(await (await LinkCache.open(`${dir}/b.wasm`, cacheDir)).finish(), 0);
  assert.ok(existsSync(`${cacheDir}/objects/${name}`));
  // Two minutes later, they are gone.
  const later = Date.now() + 120_000;
  assert.equal(await (await LinkCache.open(`${dir}/b.wasm`, cacheDir)).finish(later), 1);
  assert.ok(!existsSync(`${cacheDir}/objects/${name}`));
  assert.deepEqual([...Deno.readDirSync(`${cacheDir}/manifests`)].map((e) => e.name), [
    "b.wasm.json",
  ]);
  await Deno.remove(dir, { recursive: true });
});

/** The externref helpers of FORMATS.md's example (js-sys's shape), as one js_bindgen.wat record. */
const JS_SYS_WAT =
  `(import "js_sys" "externref.table" (table $js_sys.import.externref.table (@sym (name "js_sys.externref.table")) 2 externref))
(import "env" "js_sys.externref.next" (func $js_sys.externref.next (@sym) (result i32)))
(func $js_sys.externref.grow (@sym) (param $size i32) (result i32)
  ref.null extern
  local.get $size
  table.grow $js_sys.import.externref.table (@reloc))
(func $js_sys.externref.insert (@sym) (param $value externref) (result i32) (local $index i32)
  call $js_sys.externref.next (@reloc)
  local.tee $index
  local.get $value
  table.set $js_sys.import.externref.table (@reloc)
  local.get $index)
(func $js_sys.externref.get (@sym) (param $index i32) (result externref)
  local.get $index
  table.get $js_sys.import.externref.table (@reloc))
(func $js_sys.externref.remove (@sym) (param $index i32)
  local.get $index
  ref.null extern
  table.set $js_sys.import.externref.table (@reloc))`;

/** The same functions as a plain module. */
const JS_SYS_PLAIN = `(module
  (import "js_sys" "externref.table" (table $t 2 externref))
  (import "env" "js_sys.externref.next" (func $next (result i32)))
  (func (export "js_sys.externref.grow") (param i32) (result i32)
    ref.null extern
    local.get 0
    table.grow $t)
  (func (export "js_sys.externref.insert") (param externref) (result i32) (local i32)
    call $next
    local.tee 1
    local.get 0
    table.set $t
    local.get 1)
  (func (export "js_sys.externref.get") (param i32) (result externref)
    local.get 0
    table.get $t)
  (func (export "js_sys.externref.remove") (param i32)
    local.get 0
    ref.null extern
    table.set $t))`;

/** A js_bindgen.import/embed record: module, name, required embeds, JS text. */
function jsRecord(module: string, name: string, embeds: [string, string][], text: string) {
  const enc = new TextEncoder();
  const str = (s: string) => {
    const b = enc.encode(s);
    return concat(new Uint8Array([b.length & 0xff, b.length >> 8]), b);
  };
  return record(concat(
    str(module),
    str(name),
    new Uint8Array([embeds.length]),
    ...embeds.map(([m, n]) => concat(str(m), str(n))),
    enc.encode(text),
  ));
}

Deno.test(
  "js-sys's externref helpers (FORMATS.md) link with rust-lld and behave like plain WAT",
  needs(LLD),
  async () => {
    const { assembleModule } = await import("../asm/mod.ts");
    const dir = await tempDir();
    // A carrier object holding the records, as a crate's object would.
    const carrier = WasmModule.parse(await assembleModule("(module (@rwat))"));
    carrier.addCustomSection("js_bindgen.wat", record(JS_SYS_WAT));
    carrier.addCustomSection(
      "js_bindgen.embed",
      jsRecord(
        "js_sys",
        "externref.table",
        [],
        "(() => { const table = new WebAssembly.Table({ initial: 2, element: 'externref' }); table.set(1, null); return table })()",
      ),
    );
    carrier.addCustomSection(
      "js_bindgen.import",
      jsRecord(
        "js_sys",
        "externref.table",
        [["js_sys", "externref.table"]],
        "this.#jsEmbed.js_sys['externref.table']",
      ),
    );
    await Deno.writeFile(`${dir}/js_sys.o`, carrier.toBytes());
    const r = await linkIn(dir, [
      ...RUSTC_FLAGS.filter((a) => a !== "run" && a !== "--export"),
      "js_sys.o",
      "-o",
      "app.wasm",
    ]).result;
    assert.equal(r.objects.total, 1);

    // Drive both with the same `next` (a free-list stand-in: 2, 3, 4, ...).
    const drive = (e: Record<string, (...a: unknown[]) => unknown>) => {
      const grownFrom = e["js_sys.externref.grow"](4);
      const a = e["js_sys.externref.insert"]({ n: 1 }) as number;
      const b = e["js_sys.externref.insert"]("two") as number;
      const got = [grownFrom, a, b, e["js_sys.externref.get"](a), e["js_sys.externref.get"](b)];
      e["js_sys.externref.remove"](a);
      got.push(e["js_sys.externref.get"](a), e["js_sys.externref.get"](1));
      return got;
    };
    const counter = () => {
      let next = 2;
      return { env: { "js_sys.externref.next": () => next++ } };
    };
    const glue = await import(`file://${dir}/app.js`);
    const linked = await glue.instantiate(await Deno.readFile(`${dir}/app.wasm`), {
      imports: counter(),
    });
    const { default: wabtInit } = await import("wabt");
    const wabt = await wabtInit();
    const parsed = wabt.parseWat("plain.wat", JS_SYS_PLAIN, { reference_types: true });
    const plainBytes = parsed.toBinary({}).buffer;
    parsed.destroy();
    const table = new WebAssembly.Table({ initial: 2, element: "externref" as "anyfunc" });
    table.set(1, null);
    const plain = await WebAssembly.instantiate(plainBytes as BufferSource, {
      js_sys: { "externref.table": table },
      ...counter(),
    });
    const fromLinked = drive(linked.exports);
    assert.deepEqual(
      fromLinked,
      drive(plain.instance.exports as Record<string, (...a: unknown[]) => unknown>),
    );
    assert.deepEqual(fromLinked, [2, 2, 3, { n: 1 }, "two", null, null]);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  '"glue": false in the configuration (or --no-glue) writes no .js, js_output all the same',
  needs(LLD),
  async () => {
    for (const [config, extra] of [[{ glue: false }, []], [{}, ["--no-glue"]]] as const) {
      const dir = await tempDir();
      const r = await link({
        args: [...RUSTC_FLAGS, ...extra, OBJECT, "-o", "app.wasm"],
        cwd: dir,
        config,
      });
      assert.deepEqual(r.files, []);
      assert.ok(!r.linkerArgs.includes("--no-glue"));
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
        ".linkpass",
        "app.wasm",
      ]);
      const names = WasmModule.parse(await Deno.readFile(`${dir}/app.wasm`)).customSections()
        .map((s) => s.name);
      assert.ok(names.includes("js_bindgen.js_output"));
      await Deno.remove(dir, { recursive: true });
    }
  },
);
