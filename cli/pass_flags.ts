/**
 * The `opt` flags of every pass, derived from the pass definitions, and the passes a parsed
 * command line asks for.
 * @module
 */
import { Option } from "../deps/commander.ts";
import { UsageError } from "../errors.ts";
import { flagsOf, type PassFactory } from "../passes/define.ts";
import type { Pass } from "../passes/types.ts";

/** Commander's attribute name for a flag: `allow-unwind-change` → `allowUnwindChange`. */
export function attributeOf(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The commander options of `passes`' flags (each help line starts with `[pass]`). */
export function passOptions(passes: readonly PassFactory[]): Option[] {
  const options: Option[] = [];
  for (const { definition } of passes) {
    for (const spec of flagsOf(definition)) {
      const option = new Option(spec.syntax, `[${definition.name}] ${spec.help}`);
      if (spec.repeatable) option.argParser(collect);
      if (spec.choices) option.choices(spec.choices);
      options.push(option as unknown as Option);
    }
  }
  return options;
}

/**
 * The passes a parsed command line asks for, in registry order. A pass's own flag turns it on
 * (with a value, it sets the pass's main option); its other flags need it.
 */
export function passesFromFlags(
  values: Record<string, unknown>,
  passes: readonly PassFactory[],
): Pass[] {
  const out: Pass[] = [];
  for (const factory of passes) {
    const { definition } = factory;
    const flags = flagsOf(definition);
    const enabled = values[attributeOf(definition.name)];
    const given = flags.filter((f) => !f.enables && values[attributeOf(f.flag)] !== undefined);
    if (enabled === undefined) {
      if (given.length) {
        throw new UsageError(`--${given[0].flag} needs --${definition.name}`, 2);
      }
      continue;
    }
    const input: Record<string, unknown> = {};
    for (const f of flags) {
      const raw = values[attributeOf(f.flag)];
      if (f.key === undefined || raw === undefined || (f.enables && raw === true)) continue;
      try {
        input[f.key] = definition.options[f.key].parse(raw);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        throw new UsageError(`--${f.flag}: ${e.message}`, 2);
      }
    }
    out.push(factory(input));
  }
  return out;
}
