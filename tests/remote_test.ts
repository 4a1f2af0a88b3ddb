/**
 * linkpass as a new user meets it: served by a plain static host (no import map applies to remote
 * modules), run and installed from its URL, from a folder with no deno.json, each with its own
 * DENO_DIR.
 */
import assert from "node:assert/strict";
import { fixture, needs, rustLld } from "./_tools.ts";
import { serveStatic } from "./_serve.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const DEMO = new URL("../examples/demo/app.wasm", import.meta.url).pathname;
const decoder = new TextDecoder();

/** The npm cache of this test run (it holds binaryen, which the tests below need). */
async function npmCache(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .output();
  return JSON.parse(decoder.decode(out.stdout)).npmCache;
}

/** A fresh DENO_DIR; with `warm`, its npm folder is a hard-linked copy of this run's cache. */
async function denoDir(warm: boolean): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_deno_dir_" });
  if (warm) {
    const from = await npmCache();
    const cp = await new Deno.Command("cp", { args: ["-al", from, `${dir}/npm`], stderr: "null" })
      .output();
    if (!cp.success) await new Deno.Command("cp", { args: ["-a", from, `${dir}/npm`] }).output();
  }
  return dir;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` in `cwd` with `DENO_DIR` set. */
async function exec(cmd: string, args: string[], cwd: string, dir: string): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { DENO_DIR: dir, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Packages in a DENO_DIR's npm cache. */
function npmPackages(dir: string): string[] {
  try {
    return [...Deno.readDirSync(`${dir}/npm/registry.npmjs.org`)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** A temp folder with no deno.json, a server over the checkout, and cleanup. */
async function setup() {
  const work = await Deno.makeTempDir({ prefix: "linkpass_user_" });
  const server = serveStatic(ROOT);
  return {
    work,
    url: server.url,
    server,
    async close(...dirs: string[]) {
      await server.close();
      for (const d of [work, ...dirs]) await Deno.remove(d, { recursive: true });
    },
  };
}

Deno.test("from a URL with a fresh DENO_DIR, --help, --version, passes, inspect and a strip never download binaryen or wabt", async () => {
  const { work, url, close } = await setup();
  const dir = await denoDir(false);
  const cli = `${url}cli.ts`;
  const help = await exec(Deno.execPath(), ["run", "-A", cli, "--help"], work, dir);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: linkpass/);
  const version = await exec(Deno.execPath(), ["run", "-A", cli, "--version"], work, dir);
  assert.equal(version.stdout.trim(), "0.1.0");
  const passes = await exec(Deno.execPath(), ["run", "-A", cli, "passes"], work, dir);
  assert.match(passes.stdout, /^panic \(sections\)/m);
  const inspect = await exec(Deno.execPath(), ["run", "-A", cli, "inspect", DEMO], work, dir);
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /names: yes/);
  const strip = await exec(
    Deno.execPath(),
    ["run", "-A", cli, "opt", DEMO, "-o", "out/app.wasm", "--strip-custom-sections", "all"],
    work,
    dir,
  );
  assert.equal(strip.code, 0, strip.stderr);
  assert.ok(WebAssembly.validate(await Deno.readFile(`${work}/out/app.wasm`)));
  const packages = npmPackages(dir);
  assert.ok(packages.includes("@commander-js"), `commander was not fetched: ${packages}`);
  for (const heavy of ["binaryen", "wabt", "gecko-profiler-demangle"]) {
    assert.ok(!packages.includes(heavy), `${heavy} was downloaded: ${packages}`);
  }
  // The size views load on demand (a dynamic import from the same URL; the demo's mangled names
  // then fetch the demangler).
  const top = await exec(
    Deno.execPath(),
    ["run", "-A", cli, "inspect", DEMO, "--top", "3"],
    work,
    dir,
  );
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /the 3 largest items/);
  await close(dir);
});

Deno.test("from a URL, opt runs IR passes (binaryen's panic engine) and strips, with no import map", async () => {
  const { work, url, close } = await setup();
  const dir = await denoDir(true);
  const r = await exec(
    Deno.execPath(),
    [
      "run",
      "-A",
      `${url}cli.ts`,
      "opt",
      DEMO,
      "-o",
      `${work}/small.wasm`,
      "--panic",
      "trap",
      "--panic-engine",
      "binaryen",
      "--strip-custom-sections",
      "debug",
      "--report",
      "json",
    ],
    work,
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.passes.map((p: { name: string }) => p.name), [
    "panic",
    "strip-custom-sections",
  ]);
  assert.ok(report.phases["load binaryen"] > 0, "binaryen was loaded for the IR pass");
  const bytes = await Deno.readFile(`${work}/small.wasm`);
  assert.ok(WebAssembly.validate(bytes));
  assert.equal(bytes.length, report.outputBytes);
  assert.ok(bytes.length < (await Deno.stat(DEMO)).size / 2);
  await close(dir);
});

Deno.test("a user script importing <URL>/mod.ts type-checks and runs its own pass", async () => {
  const { work, url, close } = await setup();
  const dir = await denoDir(true);
  await Deno.writeTextFile(
    `${work}/shrink.ts`,
    `import { definePass, readModuleFile, runPipeline, stripCustomSections } from "${url}mod.ts";

const countCustom = definePass({
  name: "count-custom",
  description: "counts the custom sections",
  level: "sections",
  options: {},
  create: () => ({ run: (module) => ({ custom: module.customSections().length }) }),
});

const input = await readModuleFile(Deno.args[0]);
const { report, bytes } = await runPipeline(input, [
  countCustom(),
  stripCustomSections({ remove: ["all"] }),
  countCustom(),
]);
console.log(JSON.stringify({ counts: [report.passes[0].report.custom, report.passes[2].report.custom], size: bytes.length }));
`,
  );
  // A loopback host is not in Deno's default --allow-import list (github, deno.land, ... are).
  const host = new URL(url).host;
  const check = await exec(
    Deno.execPath(),
    ["check", `--allow-import=${host}`, "shrink.ts"],
    work,
    dir,
  );
  assert.equal(check.code, 0, check.stderr);
  const run = await exec(Deno.execPath(), ["run", "-A", "shrink.ts", DEMO], work, dir);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.ok(out.counts[0] > 0);
  assert.equal(out.counts[1], 0);
  assert.ok(out.size < (await Deno.stat(DEMO)).size);
  await close(dir);
});

Deno.test({
  name: "deno install from the URL (and from a path) with no extra flags gives working commands",
  ...needs(rustLld()),
  async fn() {
    const { work, url, close } = await setup();
    const dir = await denoDir(true);
    const root = await Deno.makeTempDir({ prefix: "linkpass_root_" });
    const install = async (name: string, target: string) => {
      const r = await exec(
        Deno.execPath(),
        ["install", "-g", "-A", "-f", "--root", root, "-n", name, target],
        work,
        dir,
      );
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    };
    await install("linkpass", `${url}cli.ts`);
    await install("linkpass-ld", `${url}bin/linkpass_ld.ts`);
    await install("linkpass-run", `${url}bin/linkpass_run.ts`);
    await install("linkpass-local", `${ROOT}cli.ts`);

    const opt = await exec(
      `${root}/bin/linkpass`,
      ["opt", DEMO, "-o", "app.wasm", "--strip-custom-sections", "debug"],
      work,
      dir,
    );
    assert.equal(opt.code, 0, opt.stderr);
    assert.ok(WebAssembly.validate(await Deno.readFile(`${work}/app.wasm`)));
    const local = await exec(`${root}/bin/linkpass-local`, ["inspect", "app.wasm"], work, dir);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /^app\.wasm: /);

    const tests = await exec(
      `${root}/bin/linkpass-run`,
      [fixture("glue/tests.wasm"), "--list"],
      work,
      dir,
    );
    assert.equal(tests.code, 0, tests.stderr);
    assert.match(tests.stdout, /: test$/m);

    const ld = await exec(
      `${root}/bin/linkpass-ld`,
      ["--linker", rustLld()!, "--version"],
      work,
      dir,
    );
    assert.equal(ld.code, 0, ld.stderr);
    assert.match(ld.stdout, /LLD \d+/);
    await close(dir, root);
  },
});
