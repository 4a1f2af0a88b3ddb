/**
 * Stripping every custom section of a 32 MB module: the whole CLI process against native
 * `wasm-strip` (target: ≤ 0.5× its wall time), and the in-process pass against a plain byte copy
 * (target: within 3×). Run with `deno task bench bench/strip_bench.ts`.
 */
import { runPipeline, stripCustomSections } from "../mod.ts";
import { largeModulePath } from "./_large_module.ts";

const input = await largeModulePath(32);
const bytes = await Deno.readFile(input);
if (!WebAssembly.validate(bytes)) throw new Error("the generated module is invalid");
const out = `${await Deno.makeTempDir()}/out.wasm`;
const cli = new URL("../cli.ts", import.meta.url).pathname;

async function spawn(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(r.stderr)}`);
}

Deno.bench({
  name: "native wasm-strip (process)",
  group: "process",
  baseline: true,
  async fn() {
    await spawn("wasm-strip", [input, "-o", out]);
  },
});

Deno.bench({
  name: "linkpass opt --strip-custom-sections (process)",
  group: "process",
  async fn() {
    await spawn(Deno.execPath(), [
      "run",
      "-A",
      cli,
      "opt",
      input,
      "-o",
      out,
      "--strip-custom-sections",
      "--report",
      "json",
    ]);
  },
});

Deno.bench({
  name: "byte copy (in-process)",
  group: "in-process",
  baseline: true,
  fn() {
    bytes.slice();
  },
});

Deno.bench({
  name: "runPipeline strip-custom-sections (in-process)",
  group: "in-process",
  async fn() {
    // `.bytes` builds the output buffer, so the comparison with a copy is fair
    (await runPipeline(bytes, [stripCustomSections()])).bytes;
  },
});

Deno.bench({
  name: "linkpass --help (process start-up)",
  group: "start-up",
  async fn() {
    await spawn(Deno.execPath(), ["run", "-A", cli, "--help"]);
  },
});
