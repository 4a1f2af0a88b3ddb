/**
 * The size commands as a user runs them: `inspect --top/--retained/--garbage/--html`, `why`,
 * `diff`, `opt --size-diff`, with golden output for the demo module.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { panic } from "../passes/panic.ts";
import { runPipeline } from "../pipeline.ts";
import { analyzeSize, topItems } from "../size/mod.ts";
import { readModule } from "../mod.ts";
import { readCode } from "../wasm/types.ts";
import { REPO, runCli } from "./_cli.ts";

const DEMO = "examples/demo/app.wasm";

const cli = (args: string[]) => runCli(args, { cwd: REPO });

/** The demo after `--panic trap`, written into a temp dir. */
async function trapped(): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_size_cli_" });
  const { bytes } = await runPipeline(await Deno.readFile(join(REPO, DEMO)), [
    panic({ mode: "trap" }),
  ]);
  const file = join(dir, "app.trap.wasm");
  await Deno.writeFile(file, bytes);
  return { dir, file };
}

Deno.test("inspect --top, --retained and --garbage print the demo's tables", async (t) => {
  for (
    const args of [
      ["inspect", DEMO, "--top", "12"],
      ["inspect", DEMO, "--retained", "8", "--kind", "function"],
      ["inspect", DEMO, "--garbage"],
    ]
  ) {
    const r = await cli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    await t.assertSnapshot(r.stdout);
  }
});

Deno.test("inspect --top --json lists the same items as topItems(), largest first", async () => {
  const r = await cli(["inspect", DEMO, "--top", "5", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { top: { name: string; bytes: number }[]; bytes: number };
  const expected = topItems(analyzeSize(await Deno.readFile(join(REPO, DEMO))), { limit: 5 });
  assert.deepEqual(
    json.top.map((i) => [i.bytes, i.name.replace(/^custom section /, "")]),
    expected.map((i) => [i.bytes, i.name.replace(/^custom section /, "")]),
  );
  assert.equal(json.bytes, (await Deno.stat(join(REPO, DEMO))).size);
});

Deno.test("inspect without size options prints the section summary as before", async () => {
  const r = await cli(["inspect", DEMO]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^examples\/demo\/app\.wasm: 180,263 bytes, module/);
  assert.match(r.stdout, /functions: 0 imported, 53 defined/);
});

Deno.test("why prints the shortest paths from the exports, demangled", async (t) => {
  const r = await cli(["why", DEMO, "core::panicking::panic_fmt"]);
  assert.equal(r.code, 0, r.stderr);
  await t.assertSnapshot(r.stdout);
  const json = JSON.parse(
    (await cli(["why", DEMO, "/unwrap_failed/", "--json", "--paths", "1"])).stdout,
  );
  assert.equal(json.matches.length, 1);
  assert.equal(json.matches[0].paths.length, 1);
  assert.equal(json.matches[0].paths[0][0].via, 'export "parse_positive"');
});

Deno.test("why on garbage says so; a name that matches nothing fails with exit code 1", async () => {
  const garbage = await cli(["why", DEMO, "core::fmt::write"]);
  assert.equal(garbage.code, 0);
  assert.match(garbage.stdout, /not reachable from any root: garbage/);
  const none = await cli(["why", DEMO, "no::such::function"]);
  assert.equal(none.code, 1);
  assert.equal(none.stdout, "", "said once, as the error");
  assert.equal(
    none.stderr.trim(),
    'error: No item matches "no::such::function"; try a /regex/ or `linkpass inspect --top` for the names',
  );
  const usage = await cli(["why", DEMO]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^error: why needs an item name or \/regex\/ \(or --garbage\)/);
  const bad = await cli(["inspect", DEMO, "--top", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--top needs a positive whole number, got "0"/);
  const missing = await cli(["why", "nope.wasm", "x"]);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    'error: Cannot read "nope.wasm": no such file; check the path',
  );
});

Deno.test("diff after --panic trap: sections and items by delta, totals", async (t) => {
  const { dir, file } = await trapped();
  const r = await cli(["diff", DEMO, file, "--limit", "12"]);
  assert.equal(r.code, 0, r.stderr);
  await t.assertSnapshot(r.stdout.replaceAll(dir, "<tmp>"));
  const json = JSON.parse((await cli(["diff", DEMO, file, "--json"])).stdout);
  const size = (await Deno.stat(file)).size;
  assert.equal(json.total.after, size);
  assert.equal(
    json.items.reduce((n: number, r: { delta: number }) => n + r.delta, 0),
    size - 180263,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("opt --size-diff prints the top of the diff after the report; refused with --report json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_size_cli_" });
  const out = join(dir, "app.wasm");
  const r = await cli(["opt", DEMO, "-o", out, "--panic", "trap", "--size-diff", "3"]);
  assert.equal(r.code, 0, r.stderr);
  const [report, diff] = r.stdout.split(/\n\n(?=examples\/demo\/app\.wasm → )/);
  assert.match(report, /^input 180,263 bytes → output/);
  assert.match(diff, /items: \d+ removed/);
  assert.match(diff, /\.\.\. \d+ more changed item\(s\)/);
  const json = await cli([
    "opt",
    DEMO,
    "-o",
    out,
    "--panic",
    "trap",
    "--size-diff",
    "--report",
    "json",
  ]);
  assert.equal(json.code, 2);
  assert.match(
    json.stderr,
    /--size-diff prints a table; with --report json run `linkpass diff --json` instead/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("inspect --html and diff --html write one self-contained page", async () => {
  const { dir, file } = await trapped();
  const page = join(dir, "size.html");
  const r = await cli(["inspect", DEMO, "--html", page]);
  assert.equal(r.code, 0, r.stderr);
  const html = await Deno.readTextFile(page);
  assert.ok(html.includes("core::fmt::Formatter::pad"), "names are demangled");
  assert.ok(!/<(script|link|img)[^>]+(src|href)=/.test(html), "nothing is loaded from elsewhere");
  const d = await cli(["diff", DEMO, file, "--html", join(dir, "diff.html")]);
  assert.equal(d.code, 0, d.stderr);
  assert.ok((await Deno.readTextFile(join(dir, "diff.html"))).includes('"mode":"diff"'));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a corrupt function body is one error line naming the file and the offset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_size_cli_" });
  const bytes = await Deno.readFile(join(REPO, "tests/fixtures/rust_cdylib/app.wasm"));
  const bad = bytes.slice();
  // Opcode 0xff does not exist: it replaces the `end` that closes the first body.
  const [first] = readCode(readModule(bytes));
  bad[first.offset + first.body.length - 1] = 0xff;
  const file = join(dir, "bad.wasm");
  await Deno.writeFile(file, bad);
  const r = await cli(["inspect", file, "--retained", "3"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr.trim(),
    /^error: Cannot read ".*bad\.wasm": unknown opcode 0xff in function body 0; the file is corrupt or uses a proposal linkpass does not know \(at offset 0x[0-9a-f]+\)$/,
  );
  await Deno.remove(dir, { recursive: true });
});
