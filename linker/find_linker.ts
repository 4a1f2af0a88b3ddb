/**
 * Finding the real linker: an explicit choice (`--linker`, `LINKPASS_LINKER`, the config), else
 * the rust-lld of `rustc --print sysroot` (memoized), else rust-lld or wasm-ld on PATH.
 * @module
 */
import { dirname, join } from "node:path";
import { UsageError } from "../passes/types.ts";

/** The linker chosen and why. */
export interface LinkerChoice {
  path: string;
  /** How it was found, for messages and reports. */
  source: string;
}

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd: string, env: (n: string) => string | undefined): string | undefined {
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

function resolveCommand(cmd: string, env: (n: string) => string | undefined): string | undefined {
  if (cmd.includes("/")) return existsSync(cmd) ? cmd : undefined;
  return onPath(cmd, env);
}

/** The rust-lld of the `rustc` on PATH, memoized in `memoFile` by rustc's path and mtime. */
async function sysrootLld(
  env: (n: string) => string | undefined,
  memoFile?: string,
): Promise<string | undefined> {
  const rustc = onPath("rustc", env);
  if (!rustc) return undefined;
  const stamp = `${rustc}|${Deno.statSync(rustc).mtime?.getTime() ?? 0}|${
    env("RUSTUP_TOOLCHAIN") ?? ""
  }`;
  if (memoFile) {
    try {
      const memo = JSON.parse(await Deno.readTextFile(memoFile));
      if (memo.stamp === stamp && (memo.lld === null || existsSync(memo.lld))) {
        return memo.lld ?? undefined;
      }
    } catch { /* no memo */ }
  }
  let lld: string | undefined;
  try {
    const out = await new Deno.Command(rustc, {
      args: ["--print", "sysroot"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) {
      const sysroot = new TextDecoder().decode(out.stdout).trim();
      const rustlib = join(sysroot, "lib", "rustlib");
      for await (const host of Deno.readDir(rustlib)) {
        const p = join(rustlib, host.name, "bin", "rust-lld");
        if (existsSync(p)) {
          lld = p;
          break;
        }
      }
    }
  } catch { /* rustc failed */ }
  if (memoFile) {
    await Deno.mkdir(dirname(memoFile), { recursive: true })
      .then(() => Deno.writeTextFile(memoFile, JSON.stringify({ stamp, lld: lld ?? null })))
      .catch(() => {});
  }
  return lld;
}

/**
 * Chooses the linker. `explicit` is `--linker`; then `LINKPASS_LINKER`, then `configured`.
 * Throws a UsageError when an explicit choice does not exist or nothing is found.
 */
export async function findLinker(options: {
  explicit?: string;
  configured?: string;
  env?: (name: string) => string | undefined;
  memoFile?: string;
}): Promise<LinkerChoice> {
  const env = options.env ?? ((n: string) => Deno.env.get(n));
  const choices: [string | undefined, string][] = [
    [options.explicit, "--linker"],
    [env("LINKPASS_LINKER") || undefined, "LINKPASS_LINKER"],
    [options.configured, "the linkpass configuration"],
  ];
  for (const [cmd, source] of choices) {
    if (cmd === undefined) continue;
    const path = resolveCommand(cmd, env);
    if (!path) {
      throw new UsageError(
        `Cannot find the linker "${cmd}" given by ${source}: no such file or command on PATH; give the path of rust-lld or wasm-ld`,
        2,
      );
    }
    return { path, source };
  }
  const fromRustc = await sysrootLld(env, options.memoFile);
  if (fromRustc) return { path: fromRustc, source: "rustc --print sysroot" };
  const lld = onPath("rust-lld", env);
  if (lld) return { path: lld, source: "rust-lld on PATH" };
  const wasmLd = onPath("wasm-ld", env);
  if (wasmLd) return { path: wasmLd, source: "wasm-ld on PATH" };
  throw new UsageError(
    "Cannot find a WebAssembly linker: no rust-lld on PATH or in `rustc --print sysroot`, and no wasm-ld on PATH; install rustup's stable toolchain, or pass --linker PATH / set LINKPASS_LINKER",
  );
}
