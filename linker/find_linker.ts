/**
 * Finding the real linker: an explicit choice (`--linker`, `LINKPASS_LINKER`, the config), else
 * the rust-lld of `rustc --print sysroot` (memoized), else rust-lld or wasm-ld on PATH.
 * @module
 */
import { dirname, join } from "node:path";
import { UsageError } from "../errors.ts";

/** The linker chosen and why. */
export interface LinkerChoice {
  path: string;
  /** How it was found, for messages and reports. */
  source: string;
  /** LLD's major version, when `--version` said. */
  lldMajor?: number;
}

/**
 * Permissions Deno denied during one lookup (`--allow-read=/usr/bin`, `--allow-run=rustc`...). A
 * lookup that met a denial says so instead of "not found", and remembers nothing it found then.
 */
class Denials {
  readonly flags = new Set<string>();
  /** Records `e` when it is a denial (returns true), so the caller can treat it as "unknown". */
  note(e: unknown): boolean {
    if (!(e instanceof Deno.errors.NotCapable)) return false;
    const m = /Requires (\w+) access(?: to "?([^",]*)"?)?/.exec(e.message);
    this.flags.add(m ? `--allow-${m[1]}${m[2] ? `=${m[2]}` : ""}` : "-A");
    return true;
  }
  get any(): boolean {
    return this.flags.size > 0;
  }
  /** The flags to add, the first few of them. */
  describe(): string {
    const all = [...this.flags];
    return all.slice(0, 3).join(" ") + (all.length > 3 ? ` (and ${all.length - 3} more)` : "");
  }
}

function existsSync(path: string, denials: Denials): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    denials.note(e);
    return false;
  }
}

function onPath(
  cmd: string,
  env: (n: string) => string | undefined,
  denials: Denials,
): string | undefined {
  let path: string | undefined;
  try {
    path = env("PATH");
  } catch (e) {
    if (!denials.note(e)) throw e;
  }
  for (const dir of (path ?? "").split(":")) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch (e) {
      denials.note(e);
    }
  }
  return undefined;
}

function resolveCommand(
  cmd: string,
  env: (n: string) => string | undefined,
  denials: Denials,
): string | undefined {
  if (cmd.includes("/")) return existsSync(cmd, denials) ? cmd : undefined;
  return onPath(cmd, env, denials);
}

/** Facts remembered between links (in `.linkpass/linker.json`): lookups that spawn processes. */
interface Memo {
  sysroot?: { stamp: string; lld: string | null };
  /** LLD major version by `path|mtime`. */
  versions?: Record<string, number | null>;
}

async function readMemo(file?: string): Promise<Memo> {
  if (!file) return {};
  try {
    const memo = JSON.parse(await Deno.readTextFile(file));
    return typeof memo === "object" && memo !== null ? memo : {};
  } catch {
    return {};
  }
}

async function writeMemo(file: string | undefined, memo: Memo): Promise<void> {
  if (!file) return;
  await Deno.mkdir(dirname(file), { recursive: true })
    .then(() => Deno.writeTextFile(file, JSON.stringify(memo)))
    .catch(() => {});
}

/** The rust-lld of the `rustc` on PATH, remembered by rustc's path and mtime. */
async function sysrootLld(
  env: (n: string) => string | undefined,
  memo: Memo,
  denials: Denials,
): Promise<{ lld?: string; changed: boolean }> {
  const rustc = onPath("rustc", env, denials);
  if (!rustc) return { changed: false };
  let stamp: string;
  try {
    stamp = `${rustc}|${Deno.statSync(rustc).mtime?.getTime() ?? 0}|${
      env("RUSTUP_TOOLCHAIN") ?? ""
    }`;
  } catch (e) {
    if (!denials.note(e)) throw e;
    return { changed: false };
  }
  const known = memo.sysroot;
  if (known?.stamp === stamp && (known.lld === null || existsSync(known.lld, denials))) {
    return { lld: known.lld ?? undefined, changed: false };
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
        if (existsSync(p, denials)) {
          lld = p;
          break;
        }
      }
    }
  } catch (e) {
    denials.note(e); // else rustc failed: remembered as "no rust-lld there"
  }
  if (lld === undefined && denials.any) return { changed: false }; // unknown, not "none"
  memo.sysroot = { stamp, lld: lld ?? null };
  return { lld, changed: true };
}

/** LLD's major version (`-flavor wasm --version`), remembered by path and mtime. */
async function lldMajor(
  path: string,
  memo: Memo,
  denials: Denials,
): Promise<{ major?: number; changed: boolean }> {
  let stamp: string;
  try {
    stamp = `${path}|${Deno.statSync(path).mtime?.getTime() ?? 0}`;
  } catch (e) {
    if (!denials.note(e)) throw e;
    return { changed: false };
  }
  memo.versions ??= {};
  if (stamp in memo.versions) return { major: memo.versions[stamp] ?? undefined, changed: false };
  let major: number | undefined;
  try {
    const out = await new Deno.Command(path, {
      args: ["-flavor", "wasm", "--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const m = /\bLLD (\d+)\./.exec(new TextDecoder().decode(out.stdout));
    if (m) major = Number(m[1]);
  } catch (e) {
    // Denied: unknown, so nothing is remembered; else not runnable, and the link reports it.
    if (denials.note(e)) return { changed: false };
  }
  memo.versions[stamp] = major ?? null;
  return { major, changed: true };
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
  const denials = new Denials();
  const getEnv = options.env ?? ((n: string) => Deno.env.get(n));
  const env = (name: string) => {
    try {
      return getEnv(name);
    } catch (e) {
      if (!denials.note(e)) throw e;
      return undefined;
    }
  };
  const memo = await readMemo(options.memoFile);
  const choose = async (path: string, source: string, changed: boolean): Promise<LinkerChoice> => {
    const version = await lldMajor(path, memo, denials);
    if (changed || version.changed) await writeMemo(options.memoFile, memo);
    return { path, source, lldMajor: version.major };
  };
  const choices: [string | undefined, string][] = [
    [options.explicit, "--linker"],
    [env("LINKPASS_LINKER") || undefined, "LINKPASS_LINKER"],
    [options.configured, "the linkpass configuration"],
  ];
  for (const [cmd, source] of choices) {
    if (cmd === undefined) continue;
    const path = resolveCommand(cmd, env, denials);
    if (!path) {
      throw new UsageError(
        denials.any
          ? `Cannot look up the linker "${cmd}" given by ${source}: permission denied by Deno; run with ${denials.describe()} (or -A)`
          : `Cannot find the linker "${cmd}" given by ${source}: no such file or command on PATH; give the path of rust-lld or wasm-ld`,
        2,
      );
    }
    return await choose(path, source, false);
  }
  const fromRustc = await sysrootLld(env, memo, denials);
  if (fromRustc.lld) return await choose(fromRustc.lld, "rustc --print sysroot", fromRustc.changed);
  if (fromRustc.changed) await writeMemo(options.memoFile, memo);
  const lld = onPath("rust-lld", env, denials);
  if (lld) return await choose(lld, "rust-lld on PATH", false);
  const wasmLd = onPath("wasm-ld", env, denials);
  if (wasmLd) return await choose(wasmLd, "wasm-ld on PATH", false);
  if (denials.any) {
    throw new UsageError(
      `Cannot look for a WebAssembly linker: permission denied by Deno (the lookup reads PATH, stats its folders and runs \`rustc --print sysroot\`); run with ${denials.describe()}, or pass --linker PATH with --allow-read and --allow-run for it (or -A)`,
    );
  }
  throw new UsageError(
    "Cannot find a WebAssembly linker: no rust-lld on PATH or in `rustc --print sysroot`, and no wasm-ld on PATH; install rustup's stable toolchain, or pass --linker PATH / set LINKPASS_LINKER",
  );
}
