/**
 * Every built-in pass is one definition: the CLI flags, a configuration and a library call must
 * make the same pass from the same values, and `true` in a configuration means the defaults.
 */
import assert from "node:assert/strict";
import { Command } from "../deps/commander.ts";
import { builtinPasses, passesFromConfig } from "../passes/mod.ts";
import { flagsOf, passFromConfig } from "../passes/define.ts";
import { passesFromFlags, passOptions } from "../cli/pass_flags.ts";
import { UsageError } from "../errors.ts";

/**
 * A value for every option of every built-in pass, as the command line spells it. A new option
 * without a sample fails the first test, so the round trip covers it.
 */
const SAMPLES: Record<string, Record<string, string | string[] | true>> = {
  "panic": { mode: "hook", hook: "env/on_panic", allowUnwindChange: true, engine: "binaryen" },
  "dce": { keep: ["main", "$helper"] },
  "binaryen": { passes: ["Oz", "vacuum"] },
  "externref-batch": {
    strategy: "64",
    callAlways: true,
    max: "4096",
    table: "externrefs",
    constantOnly: true,
    exportHelper: "grow_batched",
  },
  "js-glue": { name: "bindings", memory: "env/memory" },
  "strip-custom-sections": { remove: ["debug", "producers"], keep: ["name", "/x.*/"] },
};

/** Parses `args` with the flags `opt` derives from the registry. */
function fromArgs(args: string[]) {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  for (const option of passOptions(builtinPasses)) program.addOption(option);
  program.parse(args, { from: "user" });
  return passesFromFlags(program.opts() as Record<string, unknown>, builtinPasses);
}

Deno.test("every option of every built-in pass has a sample value", () => {
  for (const { definition } of builtinPasses) {
    assert.deepEqual(
      Object.keys(SAMPLES[definition.name] ?? {}).sort(),
      Object.keys(definition.options).sort(),
      definition.name,
    );
  }
});

for (const factory of builtinPasses) {
  const { definition } = factory;
  Deno.test(`${definition.name}: CLI flags, configuration and factory make the same pass`, () => {
    // `true` and the bare flag mean the defaults (a main option without a default needs a value).
    const defaults = factory();
    assert.deepEqual(passFromConfig(factory, true)?.options, defaults.options);
    const main = definition.main ? definition.options[definition.main] : undefined;
    if (main && main.default === undefined) {
      assert.throws(() => fromArgs([`--${definition.name}`]), /argument missing/);
    } else {
      assert.deepEqual(fromArgs([`--${definition.name}`])[0].options, defaults.options);
    }
    assert.deepEqual(passesFromConfig({ [definition.name]: true })[0].options, defaults.options);

    // Every option set at once, each through its own flag.
    const samples = SAMPLES[definition.name];
    const args: string[] = [];
    let enabled = false;
    for (const flag of flagsOf(definition)) {
      const value = flag.key === undefined ? undefined : samples[flag.key];
      if (value === undefined) continue;
      if (flag.enables) enabled = true;
      for (const v of Array.isArray(value) ? value : [value]) {
        args.push(`--${flag.flag}`, ...(v === true ? [] : [v]));
      }
    }
    if (!enabled) args.push(`--${definition.name}`);
    const cli = fromArgs(args);
    assert.equal(cli.length, 1);
    assert.equal(cli[0].name, definition.name);
    const config = passesFromConfig({ [definition.name]: samples });
    const call = factory(samples as Record<string, never>);
    assert.deepEqual(cli[0].options, config[0].options);
    assert.deepEqual(cli[0].options, call.options);
    for (const key of Object.keys(samples)) {
      assert.notDeepEqual(call.options![key], defaults.options![key], `${key} took the sample`);
    }
    // A plain value in a configuration sets the main option.
    if (definition.main) {
      const main = samples[definition.main];
      const viaMain = passesFromConfig({ [definition.name]: main });
      assert.deepEqual(viaMain[0].options![definition.main], call.options![definition.main]);
    }
  });
}

Deno.test("the README's configurations make passes", () => {
  assert.deepEqual(passesFromConfig({ panic: true }).map((p) => p.options?.mode), ["trap"]);
  const [strip] = passesFromConfig({ "strip-custom-sections": { remove: "debug" } });
  assert.deepEqual(strip.options?.remove, ["debug"]);
});

Deno.test("bad configurations and flags are usage errors that say what to write", () => {
  assert.throws(() => passesFromConfig({ panic: "abort" }), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /"mode" of pass "panic".*"trap", "hook"/);
    return true;
  });
  assert.throws(() => passesFromConfig({ panic: { mood: "trap" } }), /Unknown option "mood"/);
  assert.throws(() => passesFromConfig({ "js-glue": 3 }), /use true or an object of options/);
  assert.throws(() => fromArgs(["--panic-hook", "env/f"]), /--panic-hook needs --panic/);
  assert.throws(() => fromArgs(["--externref-batch", "--externref-max", "x"]), UsageError);
});
