import assert from "node:assert/strict";
import { buildProgram } from "../cli.ts";
import { completionScript } from "../cli/completions.ts";
import { sizeChange } from "../cli/report.ts";
import { tool } from "./_tools.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const APP = new URL("../examples/demo/app.wasm", import.meta.url).pathname;

Deno.test(
  "on a terminal opt shows each phase as it starts; off a terminal it prints nothing extra",
  {
    ignore: tool("script") === undefined || Deno.build.os !== "linux",
  },
  async () => {
    const dir = await Deno.makeTempDir();
    const command = [
      Deno.execPath(),
      "run",
      "-A",
      CLI,
      "opt",
      APP,
      "-o",
      `${dir}/o.wasm`,
      "--panic",
      "trap",
    ]
      .map((a) => `'${a}'`).join(" ");
    // util-linux `script` runs the command on a pseudo-terminal.
    const out = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout);
    const phases = [...text.matchAll(/\[\d+\.\ds\] ([^.\r\n]+)\.\.\./g)].map((m) => m[1]);
    const order = [
      "reading",
      "loading binaryen",
      "parsing (binaryen)",
      "pass panic",
      "emitting (binaryen)",
      "validating",
      "writing",
    ];
    assert.deepEqual([...new Set(phases)], order);
    assert.match(
      text,
      new RegExp("\u001b\\[2Kinput 180,263 bytes"),
      "the progress line is cleared before the report",
    );

    const piped = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "opt", APP, "-o", `${dir}/p.wasm`, "--panic", "trap"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(piped.stderr), "");
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("the report says larger when the output grows", () => {
  assert.equal(sizeChange(1000, 500), "50.0% smaller");
  assert.equal(sizeChange(1000, 1005), "0.5% larger");
  assert.equal(sizeChange(1000, 1000), "same size");
});

Deno.test("completions are generated from the command tree, pass flags included", async () => {
  const program = buildProgram();
  const bash = completionScript(program, "bash");
  for (
    const word of [
      "opt",
      "inspect",
      "link",
      "completions",
      "--strip-custom-sections",
      "--panic-hook",
      "--in-place",
    ]
  ) {
    assert.ok(bash.includes(word), `bash completion lacks ${word}`);
  }
  const fish = completionScript(program, "fish");
  assert.match(fish, /^complete -c linkpass -n '__fish_seen_subcommand_from opt' -l panic -r/m);
  assert.match(completionScript(program, "zsh"), /^#compdef linkpass\n/);
  assert.throws(
    () => completionScript(program, "tcsh"),
    /Unknown shell "tcsh": pick bash, zsh or fish/,
  );
  if (tool("bash")) {
    const check = await new Deno.Command("bash", { args: ["-n", "-c", bash] }).output();
    assert.ok(check.success, "the bash script parses");
    // Complete `linkpass opt --strip-c` in a real bash.
    const complete = await new Deno.Command("bash", {
      args: [
        "-c",
        `${bash}\nCOMP_WORDS=(linkpass opt --strip-c); COMP_CWORD=2; _linkpass; echo "\${COMPREPLY[@]}"`,
      ],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(complete.stdout).trim(), "--strip-custom-sections");
  }
});

Deno.test("a strip selector that matches nothing warns on stderr, with did-you-mean", async () => {
  const dir = await Deno.makeTempDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "opt", APP, "-o", `${dir}/o.wasm`, "--strip-custom-sections", "debgu"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0);
  assert.equal(
    new TextDecoder().decode(out.stderr),
    'warning: strip-custom-sections: the selector "debgu" matched no custom section; did you mean the category "debug"?\n',
  );
  assert.match(new TextDecoder().decode(out.stdout), /\(same size\)/);
  await Deno.remove(dir, { recursive: true });
});
