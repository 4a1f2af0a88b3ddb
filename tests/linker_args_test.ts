import nodeAssert from "node:assert/strict";
import {
  expandResponseFiles,
  hasOption,
  lastValue,
  optionValues,
  parseLinkArgs,
  quotePosix,
  targetOf,
  tokenizePosix,
  tokenizeWindows,
} from "../linker/args.ts";
import { checkFlavor } from "../linker/guards.ts";
import { UsageError } from "../errors.ts";
import { fixture, needs, run, rustLld, thrown } from "./_tools.ts";
import { type OptionSpec, WASM_LD_OPTIONS } from "../linker/options_table.ts";

const assert = (v: unknown, m?: string) => nodeAssert.ok(v, m);
const assertEquals = (a: unknown, b: unknown) => nodeAssert.deepStrictEqual(a, b);
// deno-lint-ignore no-explicit-any
function assertThrows<T>(fn: () => unknown, type: new (...a: any[]) => T): T {
  const e = thrown(fn);
  nodeAssert.ok(e instanceof type, `expected ${type.name}, got ${e}`);
  return e as T;
}

const cmdline = (name: string) =>
  Deno.readTextFileSync(fixture(`link/cmdlines/${name}`)).split("\n").filter((l) => l !== "");

const inputs = (args: string[]) =>
  parseLinkArgs(args).args.flatMap((a) => a.type === "input" ? [a.path] : []);

for (
  const name of [
    "rustc163_bin.txt",
    "rustc163_test.txt",
    "rustc163_cdylib_lto.txt",
    "rustc163_marker.txt",
  ]
) {
  Deno.test(`parseLinkArgs() knows every option rustc 1.63 passes (${name})`, () => {
    const words = cmdline(name);
    const parsed = parseLinkArgs(words);
    assertEquals(parsed.warnings, []);
    assertEquals(optionValues(parsed, "flavor"), ["wasm"]);
    assertEquals(lastValue(parsed, "rsp-quoting"), "posix");
    assertEquals(optionValues(parsed, "z"), ["stack-size=1048576"]);
    assert(hasOption(parsed, "no-entry") && hasOption(parsed, "gc-sections"));
    assert(hasOption(parsed, "export-dynamic"), "--export-dynamic is a flag, not --export");
    assertEquals(optionValues(parsed, "export").slice(1), ["__heap_base", "__data_end"]);
    assertEquals(targetOf(parsed), "wasm32");
    // Every word is accounted for, in order.
    assertEquals(parsed.args.flatMap((a) => a.raw), words);
    for (const input of inputs(words)) assert(/\.(o|rlib)$/.test(input), input);
  });
}

Deno.test("parseLinkArgs() reads the marker library as -l with a separate value", () => {
  const parsed = parseLinkArgs(cmdline("rustc163_marker.txt"));
  assertEquals(optionValues(parsed, "library"), ["linkpass-needs-linkpass-ld"]);
});

Deno.test("parseLinkArgs() gives joined and separate forms the same option", () => {
  const parsed = parseLinkArgs([
    "-ofirst.wasm",
    "-o",
    "out.wasm",
    "--export=a",
    "--export",
    "b",
    "-export",
    "c",
    "-export=d",
    "-lfoo",
    "-l",
    "bar",
    "--library=baz",
    "--library",
    "qux",
    "-L/x",
    "-L",
    "/y",
    "--library-path=/z",
    "-e",
    "start",
    "--entry=start2",
    "-zstack-size=1",
  ]);
  assertEquals(parsed.warnings, []);
  assertEquals(optionValues(parsed, "o"), ["first.wasm", "out.wasm"]);
  assertEquals(lastValue(parsed, "o"), "out.wasm");
  assertEquals(optionValues(parsed, "export"), ["a", "b", "c", "d"]);
  assertEquals(optionValues(parsed, "library"), ["foo", "bar", "baz", "qux"]);
  assertEquals(optionValues(parsed, "library-path"), ["/x", "/y", "/z"]);
  assertEquals(optionValues(parsed, "entry"), ["start", "start2"]);
  assertEquals(optionValues(parsed, "z"), ["stack-size=1"]);
});

Deno.test("parseLinkArgs() picks the longest matching spelling", () => {
  const parsed = parseLinkArgs([
    "--export-if-defined=f",
    "--export-all",
    "--export-table",
    "--import-memory=js,mem",
    "--import-memory",
    "-mllvm",
    "-x",
    "--lto-O3",
    "-O2",
    "--no-gc-sections",
  ]);
  assertEquals(parsed.warnings, []);
  assertEquals(optionValues(parsed, "export-if-defined"), ["f"]);
  assertEquals(optionValues(parsed, "export"), []);
  assert(hasOption(parsed, "export-all") && hasOption(parsed, "export-table"));
  assertEquals(optionValues(parsed, "import-memory-with-name"), ["js,mem"]);
  assert(hasOption(parsed, "import-memory"));
  assertEquals(optionValues(parsed, "mllvm"), ["-x"]);
  assertEquals(optionValues(parsed, "lto-O"), ["3"]);
  assertEquals(optionValues(parsed, "O"), ["2"]);
  assert(hasOption(parsed, "no-gc-sections") && !hasOption(parsed, "gc-sections"));
});

Deno.test("parseLinkArgs() splits comma-joined options", () => {
  const parsed = parseLinkArgs([
    "--features=bulk-memory,reference-types",
    "-extra-features=simd128",
  ]);
  assertEquals(optionValues(parsed, "features"), ["bulk-memory", "reference-types"]);
  assertEquals(optionValues(parsed, "extra-features"), ["simd128"]);
});

Deno.test("parseLinkArgs() keeps unknown options with a warning, never drops them", () => {
  const parsed = parseLinkArgs(["--frobnicate", "a.o", "--gc-sectionsX"]);
  assertEquals(parsed.args.map((a) => a.type), ["unknown", "input", "unknown"]);
  assertEquals(parsed.warnings.length, 2);
  assert(parsed.warnings[0].includes('"--frobnicate"'));
});

Deno.test("parseLinkArgs() rejects an option whose value is missing", () => {
  const e = assertThrows(() => parseLinkArgs(["a.o", "-o"]), UsageError);
  assert(e.message.includes('"-o" needs a value'));
});

Deno.test("parseLinkArgs() reads --linker as linkpass's own option", () => {
  const parsed = parseLinkArgs(["--linker", "/opt/wasm-ld", "--linker=/opt/other", "a.o"]);
  assertEquals(optionValues(parsed, "linkpass-linker"), ["/opt/wasm-ld", "/opt/other"]);
  assert(parsed.args.every((a) => a.type !== "option" || a.id !== "linkpass-linker" || a.own));
});

Deno.test("targetOf() reads -m in both forms and refuses other emulations", () => {
  assertEquals(targetOf(parseLinkArgs(["-mwasm64"])), "wasm64");
  assertEquals(targetOf(parseLinkArgs(["-m", "wasm64"])), "wasm64");
  assertEquals(targetOf(parseLinkArgs(["-m", "wasm32"])), "wasm32");
  const e = assertThrows(() => targetOf(parseLinkArgs(["-m", "elf_x86_64"])), UsageError);
  assert(e.message.includes("elf_x86_64"));
});

Deno.test("checkFlavor() refuses -flavor gnu and accepts -flavor wasm", () => {
  checkFlavor(parseLinkArgs(["-flavor", "wasm"]));
  const e = assertThrows(() => checkFlavor(parseLinkArgs(["-flavor", "gnu", "a.o"])), UsageError);
  assert(e.message.includes('"-flavor gnu"'));
});

Deno.test("tokenizePosix() handles quotes and backslashes like LLD", () => {
  assertEquals(
    tokenizePosix(`a "b c" 'd e' f\\ g "h\\"i" ''\n--export=x\t@y`),
    ["a", "b c", "d e", "f g", 'h"i', "", "--export=x", "@y"],
  );
  // What rust-lld 22 made of these as -o values: ab.wasm and cd"e.wasm.
  assertEquals(tokenizePosix(`'a\\b.wasm' "c\\d\\"e.wasm"`), ["ab.wasm", 'cd"e.wasm']);
});

Deno.test("tokenizeWindows() handles quotes and backslash runs like LLVM", () => {
  assertEquals(
    tokenizeWindows(`"C:\\Program Files\\x.o" a\\\\"b c" d\\"e "f""g"`),
    ["C:\\Program Files\\x.o", "a\\b c", 'd"e', 'f"g'],
  );
  // What rust-lld 22 made of these as -o values with --rsp-quoting=windows.
  assertEquals(tokenizeWindows(`"f""g.wasm" a\\\\"b.wasm"`), ['f"g.wasm', "a\\b.wasm"]);
});

Deno.test("quotePosix() output reads back with tokenizePosix()", () => {
  const words = ["plain.o", "with space.o", 'q"uote', "back\\slash", "", "it's"];
  assertEquals(tokenizePosix(words.map(quotePosix).join("\n")), words);
});

Deno.test("expandResponseFiles() expands nested files, relative to the working directory as LLD", () => {
  const files: Record<string, string> = {
    "/r/top.rsp": `-o "out dir/app.wasm" @sub/inner.rsp`,
    "sub/inner.rsp": "x.o 'y z.o'",
  };
  const read = (p: string) => {
    if (!(p in files)) throw new Deno.errors.NotFound(p);
    return files[p];
  };
  const { args, expanded } = expandResponseFiles(
    ["-flavor", "wasm", "@/r/top.rsp", "@missing"],
    read,
  );
  assert(expanded);
  assertEquals(args, ["-flavor", "wasm", "-o", "out dir/app.wasm", "x.o", "y z.o", "@missing"]);
});

Deno.test("expandResponseFiles() uses --rsp-quoting=windows in either form", () => {
  const read = () => `"a b\\c.o"`;
  assertEquals(expandResponseFiles(["--rsp-quoting=windows", "@f"], read).args.slice(1), [
    "a b\\c.o",
  ]);
  assertEquals(expandResponseFiles(["--rsp-quoting", "windows", "@f"], read).args.slice(2), [
    "a b\\c.o",
  ]);
  assertEquals(expandResponseFiles(["@f"], read).args, ["a bc.o"]);
  assertThrows(() => expandResponseFiles(["--rsp-quoting=dos", "@f"], read), UsageError);
});

Deno.test("parseLinkArgs() parses a response file the way rustc writes one", async () => {
  const dir = await Deno.makeTempDir();
  const words = cmdline("rustc163_bin.txt").slice(2);
  await Deno.writeTextFile(`${dir}/linker-arguments`, words.map(quotePosix).join("\n"));
  const parsed = parseLinkArgs(["-flavor", "wasm", `@${dir}/linker-arguments`]);
  assert(parsed.usedResponseFile);
  assertEquals(parsed.args.flatMap((a) => a.raw), ["-flavor", "wasm", ...words]);
  await Deno.remove(dir, { recursive: true });
});

const LLD = rustLld();

/** Sample command-line words for one spelling of an option. */
function samples(spec: OptionSpec, prefix: string): string[][] {
  const spelled = prefix + spec.name;
  switch (spec.kind) {
    case "flag":
      return [[spelled]];
    case "joined":
    case "comma-joined":
      return [[`${spelled}1`]];
    case "separate":
      return [[spelled, "1"]];
    case "joined-or-separate":
      return [[`${spelled}1`], [spelled, "1"]];
  }
}

Deno.test("rust-lld knows every spelling in the option table", needs(LLD), async () => {
  const words = WASM_LD_OPTIONS.filter((s) => s.id !== "flavor")
    .flatMap((s) => s.prefixes.flatMap((p) => samples(s, p)).flat());
  const out = await new Deno.Command(LLD!, {
    args: ["-flavor", "wasm", ...words, "--version"],
    stdout: "null",
    stderr: "piped",
  }).output();
  const unknown = new TextDecoder().decode(out.stderr).split("\n")
    .filter((l) => l.includes("unknown argument"));
  assertEquals(unknown, []);
});

Deno.test(
  "the option table knows every option in rust-lld's --help, with its kind",
  needs(LLD),
  async () => {
    const help = await run(LLD!, ["-flavor", "wasm", "--help"]);
    const wrong: string[] = [];
    let checked = 0;
    for (const line of help.split("\n")) {
      const m = /^ {2}(-{1,2}[A-Za-z][^\s=<[]*)(=?)( <|<|\[)?/.exec(line);
      if (!m) continue;
      const [, spelled, eq, value] = m;
      // What --help shows: `--x=<v>` (joined), `-x <v>` (separate), `--x<v>` (joined), `--x` (flag).
      const [words, kinds] = eq
        ? [[`${spelled}=posix`], ["joined", "comma-joined"]]
        : value === " <"
        ? [[spelled, "posix"], ["separate", "joined-or-separate"]]
        : value === "<"
        ? [[`${spelled}posix`], ["joined"]]
        : [[spelled], ["flag"]];
      checked++;
      const parsed = parseLinkArgs(words);
      const first = parsed.args[0];
      if (parsed.warnings.length || first.type !== "option" || !kinds.includes(first.kind)) {
        wrong.push(
          `${line.trim().split(/\s{2,}/)[0]} (parsed as ${
            first.type === "option" ? first.kind : first.type
          })`,
        );
      }
    }
    assert(checked > 100, `only ${checked} options in --help`);
    assertEquals(wrong, []);
  },
);
