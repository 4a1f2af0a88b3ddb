/**
 * Size views on a 12 MB module (esbuild-wasm's esbuild.wasm, installed from npm at bench time):
 * `inspect --top 20` and `inspect --retained 20` against `inspect` alone, as CLI processes and in
 * process, in the same run. Peak memory (RSS) of each process is printed once, next to the
 * runtime's own baseline (`deno run` of an empty script).
 *
 * deno bench -A bench/size_bench.ts
 */
import { analyzeSize, topItems } from "../size/mod.ts";
import { inspectModule } from "../inspect.ts";
import { readModuleFile } from "../wasm/file.ts";

const PACKAGE = "esbuild-wasm@0.25.0";
const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function install(): Promise<string | undefined> {
  try {
    const dir = await Deno.makeTempDir({ prefix: "linkpass-bench-" });
    const r = await new Deno.Command("npm", {
      args: ["install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, PACKAGE],
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success ? `${dir}/node_modules/esbuild-wasm/esbuild.wasm` : undefined;
  } catch {
    return undefined;
  }
}

const wasm = await install();

async function cli(args: string[]): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!r.success) throw new Error(`linkpass ${args.join(" ")} failed`);
}

/** Peak RSS in KB of a process, from GNU time. */
async function peakKb(args: string[]): Promise<number | undefined> {
  try {
    const r = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", Deno.execPath(), "run", "-A", ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(r.stderr).trim().split("\n");
    return Number(lines[lines.length - 1]);
  } catch {
    return undefined;
  }
}

if (wasm) {
  const size = (await Deno.stat(wasm)).size;
  // The baseline of each command: the same command on a 1 KB module (the runtime, linkpass's
  // code and its compilation), so the difference is what the 12 MB module costs.
  const tiny = new URL("../tests/fixtures/rust_cdylib/app.wasm", import.meta.url).pathname;
  const rows: string[] = [];
  for (const extra of [[], ["--top", "20"], ["--retained", "20"]]) {
    const small = await peakKb([CLI, "inspect", tiny, ...extra]);
    const big = await peakKb([CLI, "inspect", wasm, ...extra]);
    if (small && big) {
      rows.push(
        `inspect ${extra.join(" ")}: peak ${(big / 1024).toFixed(0)} MB = ${
          (small / 1024).toFixed(0)
        } MB on a 1 KB module + ${((big - small) / 1024).toFixed(1)} MB (${
          ((big - small) * 1024 / size).toFixed(2)
        }× the module)`,
      );
    }
  }
  console.log(`esbuild.wasm ${(size / 1e6).toFixed(1)} MB\n${rows.join("\n")}`);

  const group = "esbuild.wasm, CLI process";
  const process = (name: string, args: string[], baseline = false) =>
    Deno.bench(name, { group, baseline }, async (b) => {
      b.start();
      await cli(args);
      b.end();
    });
  process("inspect", ["inspect", wasm], true);
  process("inspect --top 20", ["inspect", wasm, "--top", "20"]);
  process("inspect --retained 20", ["inspect", wasm, "--retained", "20"]);

  const inProcess = "esbuild.wasm, in process (read included)";
  Deno.bench("inspectModule", { group: inProcess, baseline: true }, async () => {
    inspectModule(await readModuleFile(wasm));
  });
  Deno.bench("analyzeSize + topItems(20)", { group: inProcess }, async () => {
    topItems(analyzeSize(await readModuleFile(wasm)), { limit: 20 });
  });
  Deno.bench(
    "analyzeSize + retained top 20 (graph, dominators)",
    { group: inProcess },
    async () => {
      topItems(analyzeSize(await readModuleFile(wasm)), { limit: 20, by: "retained" });
    },
  );
} else {
  console.log(`skipped: could not install ${PACKAGE} from npm`);
}
