/**
 * Stripping `.debug_*` from std's rlibs before the link: small.rs (tests/fixtures/panic) is built
 * without LTO by Debian's rustc 1.63 through a wrapper that records the link line, each rlib on it
 * goes through `runArchivePipeline` with strip-custom-sections debug, and the same link runs with
 * the rlibs as shipped (baseline) and with the cleaned copies. Prints the rlib and output sizes
 * and the time of the archive pass itself. Needs `/usr/bin/rustc` with the wasm32 std and
 * `wasm-ld-14` (Debian: rustc libstd-rust-dev-wasm32 lld-14).
 * Run with `deno bench -A bench/archive_bench.ts`.
 */
import { runArchivePipeline, stripCustomSections } from "../mod.ts";
import { rustcWasm32 } from "../tests/_tools.ts";

const dir = await Deno.makeTempDir({ prefix: "linkpass-archive-bench-" });
const source = new URL("../tests/fixtures/panic/small.rs", import.meta.url).pathname;
await Deno.writeTextFile(
  `${dir}/ld.sh`,
  `#!/bin/sh\nmkdir -p "${dir}/objs"\nprintf '%s\\n' "$@" > "${dir}/args.txt"\n` +
    `for a in "$@"; do case "$a" in *.o) cp "$a" "${dir}/objs/" ;; esac; done\n` +
    `exec wasm-ld-14 "$@"\n`,
);
await Deno.chmod(`${dir}/ld.sh`, 0o755);
const built = await rustcWasm32(`${dir}/ld.sh`, [
  "--crate-type",
  "cdylib",
  "-C",
  "opt-level=z",
  source,
  "-o",
  `${dir}/small.wasm`,
], dir).catch(() => undefined);

if (!built?.success) {
  console.log("archive bench skipped: Debian's rustc (wasm32 std) or wasm-ld-14 is missing");
} else {
  const args = (await Deno.readTextFile(`${dir}/args.txt`)).split("\n").filter(Boolean)
    .map((a) => a.endsWith(".o") ? `${dir}/objs/${a.split("/").pop()}` : a);
  const rlibs = args.filter((a) => a.endsWith(".rlib"));
  await Deno.mkdir(`${dir}/clean`);
  let before = 0, after = 0;
  const started = performance.now();
  for (const rlib of rlibs) {
    const input = await Deno.readFile(rlib);
    const result = await runArchivePipeline(input, [stripCustomSections({ remove: ["debug"] })]);
    await Deno.writeFile(`${dir}/clean/${rlib.split("/").pop()}`, result.bytes);
    before += input.length;
    after += result.bytes.length;
  }
  const passMs = performance.now() - started;
  const cleanArgs = args.map((a) => a.endsWith(".rlib") ? `${dir}/clean/${a.split("/").pop()}` : a);
  const withOutput = (list: string[], out: string) => {
    const i = list.indexOf("-o");
    return [...list.slice(0, i + 1), out, ...list.slice(i + 2)];
  };
  const link = async (list: string[], out: string) => {
    const r = await new Deno.Command("wasm-ld-14", {
      args: withOutput(list, out),
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    return (await Deno.stat(out)).size;
  };
  const shipped = await link(args, `${dir}/shipped.wasm`);
  const cleaned = await link(cleanArgs, `${dir}/cleaned.wasm`);
  console.log(
    [
      `std rlibs (${rlibs.length}): ${before} -> ${after} bytes after strip debug ` +
      `(archive pass: ${passMs.toFixed(0)} ms in process)`,
      `linked module: ${shipped} bytes with the rlibs as shipped, ${cleaned} with cleaned rlibs`,
    ].join("\n"),
  );
  Deno.bench({
    name: "wasm-ld-14, std rlibs as shipped",
    group: "link small.rs without LTO",
    baseline: true,
    n: 5,
    fn: async () => void await link(args, `${dir}/shipped.wasm`),
  });
  Deno.bench({
    name: "wasm-ld-14, std rlibs with .debug_* stripped by linkpass",
    group: "link small.rs without LTO",
    n: 5,
    fn: async () => void await link(cleanArgs, `${dir}/cleaned.wasm`),
  });
}
