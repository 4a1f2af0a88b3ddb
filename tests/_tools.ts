/**
 * Test helpers: finding the real toolchains. With CI=true a missing tool fails the test instead
 * of skipping it.
 * @module
 */
import { existsSync } from "node:fs";

/** True when running under CI (CI=true), where toolchain tests must run. */
export const CI = Deno.env.get("CI") === "true";

function which(cmd: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const p = `${dir}/${cmd}`;
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

let rustLldPath: string | undefined | null = null;

/** Path of rustup's rust-lld (call it with `-flavor wasm`), or undefined. */
export function rustLld(): string | undefined {
  if (rustLldPath !== null) return rustLldPath;
  rustLldPath = undefined;
  const home = Deno.env.get("HOME") ?? "/root";
  // `rustc` on PATH may be Debian's (no rust-lld): try rustup's explicitly too.
  for (const rustc of ["rustc", `${home}/.cargo/bin/rustc`]) {
    try {
      const out = new Deno.Command(rustc, { args: ["--print", "sysroot"], stderr: "null" })
        .outputSync();
      const sysroot = new TextDecoder().decode(out.stdout).trim();
      const p = `${sysroot}/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld`;
      if (out.success && existsSync(p)) return rustLldPath = p;
    } catch { /* not this one */ }
  }
  return rustLldPath;
}

/** Path of a command on PATH (or an absolute path that exists), or undefined. */
export function tool(cmd: string): string | undefined {
  if (cmd.startsWith("/")) return existsSync(cmd) ? cmd : undefined;
  return which(cmd);
}

/**
 * Options for Deno.test that skip the test when a tool is missing locally. Under CI the test is
 * never ignored, so a missing tool fails it.
 */
export function needs(...tools: (string | undefined)[]): { ignore: boolean } {
  return { ignore: !CI && tools.some((t) => t === undefined) };
}

/** Runs a command and returns stdout; throws with stderr when it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: Deno.CommandOptions = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...options })
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** Runs rust-lld in its wasm flavor. */
export function rustLldWasm(args: string[]): Promise<string> {
  const lld = rustLld();
  if (!lld) throw new Error("rust-lld not found: install the rustup stable toolchain");
  return run(lld, ["-flavor", "wasm", ...args]);
}

const WASM32_LIB = "/usr/lib/rustlib/wasm32-unknown-unknown/lib";

/**
 * Debian's wasm32 rlib of `crate` (libstd-rust-dev-wasm32), e.g. "std" or "compiler_builtins":
 * DWARF in every object. Undefined when it is not installed.
 */
export function wasm32Rlib(crate: string): string | undefined {
  try {
    for (const e of Deno.readDirSync(WASM32_LIB)) {
      if (e.name.startsWith(`lib${crate}-`) && e.name.endsWith(".rlib")) {
        return `${WASM32_LIB}/${e.name}`;
      }
    }
  } catch { /* not installed */ }
  return undefined;
}

/** Debian's compiler_builtins rlib for wasm32, which rustc links in. */
export const builtins = (): string | undefined => wasm32Rlib("compiler_builtins");

/**
 * rustc 1.63's wasm-ld arguments for small.rs as a cdylib (tests/fixtures/panic/build.sh), with
 * `object` as the crate's object and Debian's compiler_builtins after it; no `-flavor`.
 */
export function smallLinkArgs(object: string, output: string): string[] {
  const exports = ["add", "checked_div", "collatz_steps", "parse_positive", "prefix_sum"]
    .concat(["sum_to", "table_at"]).flatMap((e) => ["--export", e]);
  return [
    ...exports,
    "--export=__heap_base",
    "--export=__data_end",
    "-z",
    "stack-size=1048576",
    "--stack-first",
    "--allow-undefined",
    "--no-demangle",
    "--no-entry",
    object,
    builtins()!,
    "--gc-sections",
    "-O2",
    "-o",
    output,
  ];
}

/**
 * Builds with Debian's rustc 1.63 (`/usr/bin/rustc`, edition 2021) for wasm32-unknown-unknown in
 * `cwd`, linking through `linker` as wasm-ld. Returns whether it succeeded, and its stderr.
 */
export async function rustcWasm32(
  linker: string,
  args: string[],
  cwd: string,
): Promise<{ success: boolean; stderr: string }> {
  const out = await new Deno.Command("/usr/bin/rustc", {
    args: [
      "--edition",
      "2021",
      "--target",
      "wasm32-unknown-unknown",
      "-C",
      "linker-flavor=wasm-ld",
      "-C",
      `linker=${linker}`,
      ...args,
    ],
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  return { success: out.success, stderr: new TextDecoder().decode(out.stderr) };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards (also when `fn` throws). */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The path of a fixture file. */
export function fixture(path: string): string {
  return new URL(`./fixtures/${path}`, import.meta.url).pathname;
}

/** Runs `fn` and returns what it threw; fails when it returns normally. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to throw");
}

/** Every checked-in binary fixture of the binary-layer tests. */
export const FIXTURES = [
  "rust_cdylib/app.wasm",
  "c_objects/main.o",
  "c_objects/util.o",
  "rust_objects/lib.o",
];
