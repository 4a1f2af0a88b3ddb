/**
 * `linkpass run`: the Rust fixtures (fixtures/glue) run through the CLI in a subprocess, with
 * their glue generated in memory. Binaries: output, argv, exit code, trap. Tests: libtest's
 * lines, summary, filters, --exact, --ignored, --include-ignored, should_panic, exit 101.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { panicPayload, parseTestArgs, readTests } from "../runner/libtest.ts";
import { runModule } from "../runner/run.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { fixture, needs, thrown, tool } from "./_tools.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const DIR = fixture("glue");

/** Runs `linkpass run` in the fixture directory. */
async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", ...args],
    cwd: DIR,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout).replace(/finished in \d+\.\d+s/, "finished in <t>s"),
    stderr: dec.decode(out.stderr),
  };
}

Deno.test("run: a binary's main gets argc/argv and its return value is the exit code", async () => {
  const r = await run(["app.wasm", "--", "one", "two words"]);
  assert.equal(r.stderr, "");
  assert.deepEqual(r.stdout.trimEnd().split("\n"), [
    "hello from Rust",
    "JS array: [1.5,2,3.5]",
    "sum from JS: 7",
    "args: app.wasm one two words",
  ]);
  assert.equal(r.code, 2);
  const none = await run(["app.wasm"]);
  assert.equal(none.code, 0);
});

Deno.test("run: a trap prints the panic, the message and the wasm stack, and exits 101", async () => {
  const r = await run(["app.wasm", "--", "panic"]);
  assert.equal(r.code, 101);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines[0], "panicked at 'asked to panic', app.rs:76:13");
  assert.equal(lines[1], 'error: "app.wasm" trapped: RuntimeError: unreachable');
  assert.equal(lines[2], "wasm stack:");
  assert.ok(lines.some((l) => /^ {2}at main \(wasm:0x[0-9a-f]+\)$/.test(l)), r.stderr);
  assert.ok(lines.some((l) => /core::panicking::panic_fmt/.test(l)), r.stderr);
});

Deno.test("run: tests run like libtest (golden output, exit 101 on failure)", async (t) => {
  const all = await run(["tests.wasm"]);
  assert.equal(all.code, 101);
  assert.equal(all.stderr, "");
  await t.assertSnapshot(all.stdout);
});

Deno.test("run: filters, --exact, --ignored, --include-ignored, --list", async (t) => {
  const cases: [string[], number][] = [
    [["math::adds"], 0],
    [["math", "panics::any"], 101],
    [["--exact", "adds"], 0],
    [["--exact", "math::logs"], 0],
    [["--ignored"], 101],
    [["--ignored", "slow::ignored", "--exact"], 0],
    [["--include-ignored", "slow"], 101],
    [["panics::expected", "--test-threads=1", "--nocapture"], 0],
    [["--list"], 0],
  ];
  for (const [args, code] of cases) {
    await t.step(args.join(" "), async () => {
      const r = await run(["tests.wasm", ...args]);
      assert.equal(r.code, code, r.stdout + r.stderr);
      await t.assertSnapshot(r.stdout);
    });
  }
});

Deno.test("run: --nocapture lets a test's output through", async () => {
  const r = await run(["tests.wasm", "--nocapture", "--exact", "math::logs"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /test math::logs \.\.\. this line is captured\nok\n/);
});

Deno.test("run: user errors are one line", async (t) => {
  const dir = await Deno.makeTempDir();
  const empty = WasmModule.empty();
  await Deno.writeFile(join(dir, "lib.wasm"), empty.toBytes());
  const cases: [string, string[]][] = [
    ["no entry point", [join(dir, "lib.wasm")]],
    ["missing file", [join(dir, "nope.wasm")]],
    ["unknown test option", ["tests.wasm", "--frobnicate"]],
  ];
  for (const [name, args] of cases) {
    await t.step(name, async () => {
      const r = await run(args);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      await t.assertSnapshot(r.stderr.replaceAll(dir, "<tmp>"));
    });
  }
});

Deno.test("runModule: an import nobody provides is named before anything runs", async () => {
  const bytes = await Deno.readFile(fixture("glue/app.wasm"));
  const module = WasmModule.parse(bytes);
  module.sections = module.sections.filter((s) => s.name !== "js_bindgen.import");
  const e = await runModule(module.toBytes(), { file: "app.wasm" }).catch((e) => e);
  assert.match(
    String(e.message),
    /^Cannot run "app\.wasm": no JS for the imports "web_sys"\/"console\.error", .*"js_sys"\/"externref\.table"; embed a snippet/,
  );
  // ...and the caller's imports can fill them in.
  const lines: string[] = [];
  const code = await runModule(module.toBytes(), {
    file: "app.wasm",
    imports: {
      web_sys: { "console.error": () => {}, "console.log": () => lines.push("log") },
      js_sys: {
        "externref.table": new WebAssembly.Table({ element: "externref" as "anyfunc", initial: 0 }),
        "array.new": () => [],
        "array.push": () => {},
        "array.sum": () => 0,
        "array.log": () => {},
      },
    },
  });
  assert.equal(code, 0);
  assert.equal(lines.length, 3);
});

Deno.test("readTests decodes flags and reasons; malformed records name the offset", () => {
  const module = WasmModule.parse(Deno.readFileSync(fixture("glue/tests.wasm")));
  const tests = readTests(module);
  assert.deepEqual(tests.find((t) => t.name === "slow::ignored_reason"), {
    export: "tests::slow::ignored_reason",
    name: "slow::ignored_reason",
    ignore: "needs a network",
    shouldPanic: false,
  });
  assert.equal(
    tests.find((t) => t.name === "panics::expected")?.shouldPanic,
    "index out of bounds",
  );
  const bad = WasmModule.empty();
  bad.addCustomSection("js_bindgen.test", new Uint8Array([3, 0, 0, 0, 0, 7, 0x61]));
  const e = thrown(() => readTests(WasmModule.parse(bad.toBytes())));
  assert.ok(e instanceof WasmParseError);
  assert.match(e.message, /invalid should_panic flag 7 \(expected 0, 1 or 2\) \(at offset 0x/);
});

Deno.test("panicPayload reads both of std's panic message formats", () => {
  assert.equal(panicPayload("panicked at 'boom', src/lib.rs:3:5"), "boom");
  assert.equal(panicPayload("panicked at src/lib.rs:3:5:\nboom\nmore"), "boom\nmore");
  assert.equal(panicPayload("custom"), "custom");
  assert.deepEqual(parseTestArgs(["--color", "never", "x", "--exact"]).filters, ["x"]);
});

const CARGO = tool("/usr/bin/cargo");
const RUSTC = tool("/usr/bin/rustc");
const WASM_LD_14 = tool("wasm-ld-14");

Deno.test({
  name: "run: cargo run uses linkpass-run as the wasm32 runner",
  ...needs(CARGO, RUSTC, WASM_LD_14),
  async fn() {
    const target = await Deno.makeTempDir({ prefix: "linkpass_cargo_" });
    const shim = new URL("../bin/linkpass_run.ts", import.meta.url).pathname;
    const out = await new Deno.Command(CARGO!, {
      args: [
        "run",
        "-q",
        "--offline",
        "--target",
        "wasm32-unknown-unknown",
        "--config",
        `target.wasm32-unknown-unknown.runner=${JSON.stringify(["deno", "run", "-A", shim])}`,
      ],
      cwd: fixture("glue/cargo_hello"),
      env: {
        RUSTC: RUSTC!,
        CARGO_TARGET_DIR: target,
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER: WASM_LD_14!,
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS: "-C link-arg=--import-memory",
        PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH")}`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.remove(target, { recursive: true });
    const dec = new TextDecoder();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    assert.equal(dec.decode(out.stdout), "hello from cargo run: 42\n");
  },
});

Deno.test("run: the linkpass-run shim runs tests like `linkpass run`", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../bin/linkpass_run.ts", import.meta.url).pathname,
      "tests.wasm",
      "--exact",
      "math::adds",
    ],
    cwd: DIR,
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  assert.match(new TextDecoder().decode(out.stdout), /test math::adds \.\.\. ok\n/);
});

Deno.test("runModule: an onOutput that prints with console.log gets the module's lines once each", async () => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  let code;
  try {
    code = await runModule(await Deno.readFile(fixture("glue/app.wasm")), {
      file: "app.wasm",
      engine: "deno",
      onOutput: (_stream, text) => console.log(text.trimEnd()),
    });
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  assert.deepEqual(printed, [
    "hello from Rust",
    "JS array: [1.5,2,3.5]",
    "sum from JS: 7",
    "args: app.wasm",
  ]);
});
