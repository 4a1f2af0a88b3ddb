/**
 * Linker-mode benchmarks. Run with `deno bench -A bench/link_bench.ts`.
 *
 * - "std link": a Rust `fn main` with std (Debian rustc 1.63 objects and rlibs) linked by rust-lld
 *   alone (baseline; without --fatal-warnings, which LLD 22 needs to accept the old rlibs) and
 *   by a warm `linkpass-ld` re-link: once as the `deno run bin/linkpass_ld.ts` process cargo
 *   starts, once in process (no Deno start-up).
 * - "externref link": the js-sys-shaped fixture object with its WAT fragment, same comparison.
 * - "assemble": cold assembly of the fixture's WAT fragment (wabt + relocatable layer) against
 *   wabt alone on the same functions as a plain module.
 * @module
 */
import { link } from "../linker/link.ts";
import { assembleFragment } from "../asm/mod.ts";
import { scanInput } from "../linker/scan.ts";

const root = new URL("..", import.meta.url).pathname;
const lld = (() => {
  const out = new Deno.Command("rustc", { args: ["--print", "sysroot"], stdout: "piped" })
    .outputSync();
  return `${
    new TextDecoder().decode(out.stdout).trim()
  }/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld`;
})();
const dir = Deno.makeTempDirSync({ prefix: "linkpass_bench_" });

// The std link: rustc 1.63's objects and its exact command line (fixture), objects swapped in.
Deno.writeTextFileSync(`${dir}/main.rs`, 'fn main() { println!("hi"); }\n');
new Deno.Command("/usr/bin/rustc", {
  args: [
    "--target",
    "wasm32-unknown-unknown",
    "--emit",
    "obj",
    "-C",
    "codegen-units=1",
    "main.rs",
    "-o",
    "main.o",
  ],
  cwd: dir,
}).outputSync();
const rustcWords = Deno.readTextFileSync(`${root}tests/fixtures/link/cmdlines/rustc163_bin.txt`)
  .split("\n").filter((w) => w !== "");
const stdWords = [
  ...rustcWords.filter((w) => !/\.rcgu\.o$/.test(w)).map((w) => w === "m.wasm" ? "std.wasm" : w),
  "main.o",
];
const stdBaseline = stdWords.filter((w) => w !== "--fatal-warnings").slice(2); // no -flavor
const object = `${root}tests/fixtures/link/externref/externref.o`;
const externrefWords = [
  "-flavor",
  "wasm",
  "--export=run",
  "--no-entry",
  "--allow-undefined",
  "--export-dynamic",
  object,
  "-o",
  "externref.wasm",
];

async function spawn(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}
const shim = ["run", "-A", `${root}bin/linkpass_ld.ts`];
// Warm the caches once (cleaned rlibs, assembled fragment, memoized linker path).
await link({ args: stdWords, cwd: dir, config: {} });
await link({ args: externrefWords, cwd: dir, config: {} });

Deno.bench("rust-lld alone", { group: "std link", baseline: true, n: 30, warmup: 3 }, async () => {
  await spawn(lld, ["-flavor", "wasm", ...stdBaseline]);
});
Deno.bench("linkpass-ld warm (deno run)", { group: "std link", n: 30, warmup: 3 }, async () => {
  await spawn(Deno.execPath(), [...shim, ...stdWords]);
});
Deno.bench("link() warm, in process", { group: "std link", n: 30, warmup: 3 }, async () => {
  await link({ args: stdWords, cwd: dir, config: {} });
});

Deno.bench(
  "rust-lld alone",
  { group: "externref link", baseline: true, n: 30, warmup: 3 },
  async () => {
    // The same inputs: the object plus the (cached) object assembled from its fragment.
    const objects = [...Deno.readDirSync(`${dir}/.linkpass/objects`)].map((e) =>
      `.linkpass/objects/${e.name}`
    );
    await spawn(lld, [...externrefWords, ...objects, "--import-memory"]);
  },
);
Deno.bench(
  "linkpass-ld warm (deno run)",
  { group: "externref link", n: 30, warmup: 3 },
  async () => {
    await spawn(Deno.execPath(), [...shim, ...externrefWords.slice(2)]);
  },
);
Deno.bench("link() warm, in process", { group: "externref link", n: 30, warmup: 3 }, async () => {
  await link({ args: externrefWords, cwd: dir, config: {} });
});

const fragment = scanInput("externref.o", Deno.readFileSync(object)).scan.fragments[0].text;
const plain = `(module ${fragment.replace(/\(@(sym|reloc)[^()]*(\([^()]*\))?\)/g, "")})`;
const { default: wabtInit } = await import("wabt");
const wabt = await wabtInit();
Deno.bench("wabt alone (plain module)", { group: "assemble", baseline: true }, () => {
  const m = wabt.parseWat("plain.wat", plain, { reference_types: true });
  m.toBinary({});
  m.destroy();
});
Deno.bench("assembleFragment (relocatable object)", { group: "assemble" }, async () => {
  await assembleFragment(fragment);
});
