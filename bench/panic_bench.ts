/**
 * The `panic` pass against two baselines, per module:
 * - size: a wasm-snip-style baseline (bodies of functions matching wasm-snip's six
 *   `--snip-rust-panicking-code` patterns become `unreachable`, then the same
 *   `remove-unused-module-elements`). Printed before the timings; the pass must never remove fewer
 *   code bytes than the baseline, and on the crate-hash name style (where the baseline finds
 *   nothing) it must still find the roots.
 * - time: read + pass + DCE + emit (in process, file to file) against native
 *   `wasm-opt --remove-unused-module-elements` (a process, file to file); target ≤ 1.0×.
 * - whole process on a large named module (automerge@3.5.0's 3.6 MB wasm-bindgen module, fetched
 *   from npm at bench time): `linkpass opt --panic trap` (byte engine, and `--panic-engine
 *   binaryen`) against native wasm-opt, wall time and peak memory (printed before the timings:
 *   medians of 9 rounds that run each command once in turn, under `/usr/bin/time`; deno bench's
 *   own timings follow); targets ≤ 0.5× the time, ≤ 1.0× the memory.
 *   A floor is measured beside them: a Deno process that loads the same CLI library, reads,
 *   copies, validates and writes the module, with no pass (what any Deno CLI pays for this job).
 * Run with `deno bench -A bench/panic_bench.ts`.
 */
import { panic, readModule, readNames, runPipeline } from "../mod.ts";
import { loadBinaryen, readIr } from "../pipeline.ts";
import { fixture } from "../tests/_tools.ts";
import { renameFunctions, styles } from "../tests/_rust_names.ts";

/** wasm-snip's patterns for `--snip-rust-panicking-code` (mangled, mangled in impl, demangled). */
const WASM_SNIP_PANICKING = [
  /4core9panicking/,
  /3std9panicking/,
  /core\.\.panicking\.\./,
  /std\.\.panicking\.\./,
  /core::panicking::/,
  /std::panicking::/,
];

const binaryen = await loadBinaryen();

function codeBytes(bytes: Uint8Array): number {
  return readModule(bytes).section(10)?.payload.length ?? 0;
}

/** The wasm-snip-style baseline: returns the output bytes and how many functions matched. */
function baseline(bytes: Uint8Array): { bytes: Uint8Array; snipped: number } {
  const names = readNames(readModule(bytes))?.functions ?? new Map<number, string>();
  const ir = readIr(binaryen, bytes);
  const fn = (binaryen as unknown as {
    Function: { getBody(f: number): number; setBody(f: number, b: number): void };
  }).Function;
  let snipped = 0;
  for (const [index, name] of names) {
    if (index >= ir.getNumFunctions() || !WASM_SNIP_PANICKING.some((p) => p.test(name))) continue;
    const f = ir.getFunctionByIndex(index);
    if (!fn.getBody(f)) continue; // imported
    fn.setBody(f, ir.unreachable());
    snipped++;
  }
  ir.runPasses(["remove-unused-module-elements"]);
  const out = ir.emitBinary();
  ir.dispose();
  return { bytes: out, snipped };
}

/** Installs a pinned npm package into a temporary directory; undefined when npm fails. */
async function npmInstall(pkg: string): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass-bench-" });
  const r = await new Deno.Command("npm", {
    args: ["install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, pkg],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return r?.success ? dir : undefined;
}

async function verkle(): Promise<[string, Uint8Array][]> {
  try {
    const dir = await Deno.makeTempDir({ prefix: "linkpass-bench-" });
    const r = await new Deno.Command("npm", {
      args: [
        "install",
        "--silent",
        "--no-audit",
        "--no-fund",
        "--prefix",
        dir,
        "rust-verkle-wasm@0.0.1",
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!r.success) return [];
    const path = `${dir}/node_modules/rust-verkle-wasm/web/rust_verkle_wasm_bg.wasm`;
    return [["rust-verkle-wasm@0.0.1", await Deno.readFile(path)]];
  } catch {
    return [];
  }
}

const small = await Deno.readFile(fixture("panic/small_z.wasm"));
const style = await styles();
const modules: [string, Uint8Array][] = [
  ["small_z (opt z, lto)", small],
  ["hooked_z (panic hook formats)", await Deno.readFile(fixture("panic/hooked_z.wasm"))],
  ["small_2 (opt 2, lto)", await Deno.readFile(fixture("panic/small_2.wasm"))],
  ["rust_cdylib app (opt 2, lto, -g)", await Deno.readFile(fixture("rust_cdylib/app.wasm"))],
  ["small_z, crate-hash names", renameFunctions(small, style["crate-hash"])],
  ["small_z, v0 names", renameFunctions(small, style["v0 mangled"])],
  ...await verkle(),
];

const rows: string[] = [];
for (const [name, bytes] of modules) {
  const before = codeBytes(bytes);
  const base = baseline(bytes);
  const result = await runPipeline(bytes, [panic({ mode: "trap" })]);
  const report = result.report.passes[0].report as { rootsFound: number };
  const after = codeBytes(result.bytes);
  const baseAfter = codeBytes(base.bytes);
  const ok = before - after >= before - baseAfter && report.rootsFound > 0;
  rows.push(
    `${name.padEnd(34)} ${String(before).padStart(7)} ${String(baseAfter).padStart(8)} ` +
      `${String(base.snipped).padStart(6)} ${String(after).padStart(8)} ` +
      `${String(report.rootsFound).padStart(5)} ${
        (100 * (1 - after / before)).toFixed(1).padStart(6)
      }% ${(100 * (1 - baseAfter / before)).toFixed(1).padStart(6)}%  ${
        ok ? "ok" : "WORSE THAN BASELINE"
      }`,
  );
}
console.log(
  [
    "code bytes                          before snip-out snipped pass-out roots   pass   snip",
    ...rows,
  ].join("\n"),
);

const dir = await Deno.makeTempDir({ prefix: "linkpass-bench-" });
for (const [name, bytes] of modules) {
  if (name.includes(" names")) continue; // same code as small_z
  const input = `${dir}/${name.replace(/\W+/g, "_")}.wasm`;
  await Deno.writeFile(input, bytes);
  const out = `${input}.out.wasm`;
  Deno.bench({
    name: `native wasm-opt --remove-unused-module-elements (process): ${name}`,
    group: name,
    baseline: true,
    async fn() {
      const r = await new Deno.Command("wasm-opt", {
        args: ["--remove-unused-module-elements", input, "-o", out],
        stdout: "null",
        stderr: "null",
      }).output();
      if (!r.success) throw new Error("wasm-opt failed");
    },
  });
  Deno.bench({
    name: `read + panic trap + DCE + emit (in-process): ${name}`,
    group: name,
    async fn() {
      const result = await runPipeline(await Deno.readFile(input), [panic({ mode: "trap" })], {
        validate: false,
      });
      await Deno.writeFile(out, result.bytes);
    },
  });
}

// Whole processes on a large module: the CLI as users run it, against native wasm-opt.
const automergeDir = await npmInstall("@automerge/automerge@3.5.0");
if (automergeDir) {
  const large = `${automergeDir}/node_modules/@automerge/automerge/dist/automerge.wasm`;
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const out = `${dir}/automerge.out.wasm`;
  const features = [
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-sign-ext",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-exception-handling",
    "--enable-mutable-globals",
  ];
  /** `linkpass opt --panic trap` on the large module, as a `deno` command line. */
  const panicTrap = [
    "run",
    "-A",
    cli,
    "opt",
    large,
    "-o",
    out,
    "--panic",
    "trap",
    "--allow-unwind-change",
  ];
  // The floor of any Deno CLI doing this job: start Deno, load the CLI library linkpass uses,
  // read the module, copy it, validate it, write it atomically. No pass runs: what linkpass
  // spends above this is its own.
  const floor = `${dir}/floor.ts`;
  await Deno.writeTextFile(
    floor,
    `import "${new URL("../deps/commander.ts", import.meta.url).href}";
import { writeFileAtomic } from "${new URL("../fs.ts", import.meta.url).href}";
const bytes = Deno.readFileSync(Deno.args[0]).slice();
if (!WebAssembly.validate(bytes)) throw new Error("invalid");
await writeFileAtomic(Deno.args[1], bytes);
`,
  );
  const commands: [string, string, string[]][] = [
    ["native wasm-opt --remove-unused-module-elements", "wasm-opt", [
      ...features,
      "--remove-unused-module-elements",
      large,
      "-o",
      out,
    ]],
    ["floor: Deno + commander + read, copy, validate, write", Deno.execPath(), [
      "run",
      "-A",
      floor,
      large,
      out,
    ]],
    ["linkpass opt --panic trap (bytes)", Deno.execPath(), panicTrap],
    ["linkpass opt --panic trap --panic-engine binaryen", Deno.execPath(), [
      ...panicTrap,
      "--panic-engine",
      "binaryen",
    ]],
  ];
  // Wall time and peak memory over rounds that run every command once, in turn: machine noise
  // then hits all of them alike, and the medians' ratios are what the targets compare.
  const time = "/usr/bin/time";
  const hasTime = await Deno.stat(time).then(() => true, () => false);
  if (hasTime) {
    const rounds = 9;
    const walls: number[][] = commands.map(() => []);
    const peaks: number[][] = commands.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [k, [, cmd, args]] of commands.entries()) {
        const t0 = performance.now();
        const r = await new Deno.Command(time, {
          args: ["-f", "%M", cmd, ...args],
          stdout: "null",
          stderr: "piped",
        }).output();
        walls[k].push(performance.now() - t0);
        const text = new TextDecoder().decode(r.stderr).trim().split("\n");
        peaks[k].push(Number(text.at(-1)));
      }
    }
    const median = (v: number[]) => v.toSorted((a, b) => a - b)[v.length >> 1];
    const [wall0, peak0] = [median(walls[0]), median(peaks[0])];
    console.log(
      [
        `whole process on automerge (3.6 MB), median of ${rounds} alternating rounds`,
        ...commands.map(([label], k) => {
          const [w, m] = [median(walls[k]), median(peaks[k])];
          return `${label.padEnd(52)} ${w.toFixed(0).padStart(6)} ms ${
            (w / wall0).toFixed(2).padStart(5)
          }×  ${(m / 1024).toFixed(1).padStart(6)} MB ${(m / peak0).toFixed(2).padStart(5)}×`;
        }),
      ].join("\n"),
    );
  }
  for (const [label, cmd, args] of commands) {
    Deno.bench({
      name: `${label} (whole process)`,
      group: "automerge 3.6 MB, whole process",
      baseline: cmd === "wasm-opt",
      n: 5,
      async fn() {
        const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
        if (!r.success) throw new Error(`${label} failed`);
      },
    });
  }
}
