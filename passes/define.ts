/**
 * One definition per pass. A pass says once who it is (name, description, level), which options
 * it takes (a typed schema: kind, default, choices, help) and how to make it; the factory that
 * library users call, the CLI flags, the `passes` listing, the `linkpass` configuration key and
 * user passes are all derived from that definition.
 *
 * @example A section pass with one option
 * ```ts
 * import assert from "node:assert";
 * import { definePass, integer } from "./define.ts";
 *
 * const keepFirst = definePass({
 *   name: "keep-first",
 *   description: "keep the first N sections",
 *   level: "sections",
 *   main: "count",
 *   options: { count: integer({ help: "how many sections to keep", min: 0, default: 1 }) },
 *   create: ({ count }) => ({
 *     run(module) {
 *       module.sections = module.sections.slice(0, count);
 *       return { kept: module.sections.length };
 *     },
 *   }),
 * });
 * const pass = keepFirst({ count: "2" }); // strings are parsed as the CLI's are
 * assert.strictEqual(pass.name, "keep-first");
 * assert.throws(() => keepFirst({ count: -1 }), /Invalid option "count" of pass "keep-first"/);
 * ```
 * @module
 */
import type { BinaryenModule, IrPassContext, PassContext, PassReport } from "./types.ts";
import type { WasmModule } from "../wasm/module.ts";
import type { Pass } from "./types.ts";

/** How an option appears on the command line. */
export type OptionKind = "flag" | "value" | "list";

/** One option of a pass: its kind, help, default, and how a raw value becomes a typed one. */
export interface OptionSpec<T = unknown> {
  /** `flag`: no value (boolean); `value`: one value; `list`: repeatable, collected in order. */
  kind: OptionKind;
  /** One line of help. */
  help: string;
  /** The value the pass gets when the option is absent. */
  default?: T;
  /** The only values accepted (shown in help, checked). */
  choices?: readonly string[];
  /** Placeholder in help (`<selector>`), for `value` and `list`. */
  value?: string;
  /**
   * The command-line flag without `--`, when it is not `<pass name>-<option in kebab-case>`
   * (kept short for well-known flags: `keep`, `allow-unwind-change`).
   */
  flag?: string;
  /**
   * Converts a raw value (a string from the command line, any JSON value from a configuration
   * or a library call) to the option's type; throws RangeError with a message that says what to
   * write instead.
   */
  parse(raw: unknown): T;
}

/** The options of a pass, by key (camelCase, as library users write them). */
export type OptionSchema = Record<string, OptionSpec>;

/** The value type of an option spec. */
export type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;

/** What `create` receives: every option typed, defaults filled in. */
export type ResolvedOptions<S extends OptionSchema> = {
  [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** What a factory accepts: any option may be left out; values are checked and converted. */
export type PassInput<S extends OptionSchema> = {
  [K in keyof S]?: ValueOf<S[K]> | string | (S[K] extends { kind: "list" } ? string[] : never);
};

/** Where a user pass asks to run, relative to a built-in pass. */
export interface Placement {
  /** Run just before this built-in pass. */
  before?: string;
  /** Run just after this built-in pass. */
  after?: string;
}

/** What `create` returns for a section pass: the work, without the name (the definition has it). */
export interface SectionPassBody {
  /** Edits `module` in place; returns the pass's report. */
  run(module: WasmModule, ctx: PassContext): PassReport | void | Promise<PassReport | void>;
  /** True when the pass never makes the module need a feature it did not use (`SectionPass`). */
  preservesFeatures?: boolean;
  /**
   * For passes with a second engine on binaryen IR (`panic --panic-engine binaryen`): when
   * given, the pass runs as this IR pass instead of `run`.
   */
  ir?: IrPassBody;
}

/** What `create` returns for an IR pass. */
export interface IrPassBody {
  /** A reason to skip, checked on the section model before binaryen parses anything. */
  skip?(module: WasmModule): string | undefined;
  /** Edits the binaryen module in place; returns the pass's report. */
  run(module: BinaryenModule, ctx: IrPassContext): PassReport | void | Promise<PassReport | void>;
}

/** What section and IR pass definitions share. */
export interface DefinitionBase<S extends OptionSchema> {
  /** The pass name, kebab-case (`strip-custom-sections`); also its CLI flag and config key. */
  name: string;
  /** One line saying what the pass does. */
  description: string;
  /** The options. */
  options: S;
  /**
   * The option that the pass's own flag sets (`--panic hook` sets `mode`), and that a plain
   * value in a configuration sets (`"panic": "hook"`). Without it the pass flag takes no value.
   */
  main?: keyof S & string;
  /** For user passes: where to run among the built-ins (default: after all of them). */
  placement?: Placement;
}

/** A section-level pass definition. */
export interface SectionPassDefinition<S extends OptionSchema = OptionSchema>
  extends DefinitionBase<S> {
  /** Works on the zero-copy section model. */
  level: "sections";
  /** Makes the pass from checked options. */
  create(options: ResolvedOptions<S>): SectionPassBody;
}

/** An IR-level pass definition (binaryen). */
export interface IrPassDefinition<S extends OptionSchema = OptionSchema> extends DefinitionBase<S> {
  /** Works on binaryen IR; consecutive IR passes share one parse and one emit. */
  level: "ir";
  /** Makes the pass from checked options. */
  create(options: ResolvedOptions<S>): IrPassBody;
}

/** A pass definition. */
export type PassDefinition<S extends OptionSchema = OptionSchema> =
  | SectionPassDefinition<S>
  | IrPassDefinition<S>;

/** The factory {@linkcode definePass} returns: call it with options; it carries its definition. */
export interface PassFactory<S extends OptionSchema = OptionSchema> {
  /** Makes the pass; options are checked and converted, defaults filled in. */
  (options?: PassInput<S>): Pass;
  /** The definition the factory was made from. */
  readonly definition: PassDefinition<S>;
}

/** Makes a pass factory from its one definition. */
export function definePass<const S extends OptionSchema>(
  definition: PassDefinition<S>,
): PassFactory<S> {
  if (definition.main !== undefined && !(definition.main in definition.options)) {
    throw new TypeError(`Pass "${definition.name}": main option "${definition.main}" is unknown`);
  }
  const factory = (input: PassInput<S> = {}) => {
    const resolved = resolveOptions(definition, input as Record<string, unknown>);
    // deno-lint-ignore no-explicit-any
    const made = definition.create(resolved as any);
    const ir = (made as SectionPassBody).ir;
    if (ir) {
      return {
        ...ir,
        name: definition.name,
        description: definition.description,
        level: "ir",
        options: Object.freeze(resolved),
      };
    }
    const { ir: _, ...body } = made as SectionPassBody;
    return {
      ...body,
      name: definition.name,
      description: definition.description,
      level: definition.level,
      options: Object.freeze(resolved),
    } as Pass;
  };
  return Object.assign(factory, { definition }) as PassFactory<S>;
}

/** Checks and converts `input` against the schema, filling in defaults. */
export function resolveOptions(
  definition: PassDefinition,
  input: Record<string, unknown>,
): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new RangeError(
      `Invalid options for pass "${definition.name}": give an object of option values`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in definition.options)) {
      const known = Object.keys(definition.options);
      throw new RangeError(
        `Unknown option "${key}" of pass "${definition.name}": ${
          known.length ? `use ${known.map((k) => `"${k}"`).join(", ")}` : "it takes no options"
        }`,
      );
    }
  }
  for (const [key, spec] of Object.entries(definition.options)) {
    const raw = input[key];
    if (raw === undefined) {
      out[key] = spec.default;
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (e) {
      throw new RangeError(
        `Invalid option "${key}" of pass "${definition.name}": ${(e as Error).message}`,
      );
    }
  }
  return out;
}

/**
 * Makes the pass a configuration asks for: `true` means the defaults, a plain value sets the
 * pass's main option, an object sets options by key; `false`/`null` means "not this pass".
 */
export function passFromConfig(factory: PassFactory, value: unknown): Pass | undefined {
  if (value === false || value === null || value === undefined) return undefined;
  const { definition } = factory;
  if (value === true) return factory({});
  if (typeof value === "object" && !Array.isArray(value)) {
    return factory(value as Record<string, unknown>);
  }
  if (definition.main === undefined) {
    throw new RangeError(
      `Invalid configuration of pass "${definition.name}": use true or an object of options`,
    );
  }
  return factory({ [definition.main]: value } as Record<string, unknown>);
}

/** One command-line flag derived from a definition. */
export interface FlagSpec {
  /** The option key it sets (undefined for a pass flag without a main option). */
  key?: string;
  /** Flag name without `--`. */
  flag: string;
  /** Commander syntax: `--panic [mode]`, `--keep <selector>`, `--js-glue`. */
  syntax: string;
  /** Help line. */
  help: string;
  /** Repeatable (values collected in order). */
  repeatable: boolean;
  /** Accepted values, when limited. */
  choices?: readonly string[];
  /** True for the flag that turns the pass on. */
  enables: boolean;
}

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flag of an option: its own `flag`, else `<pass>-<option in kebab-case>`. */
export function flagOf(definition: PassDefinition, key: string): string {
  return definition.options[key].flag ?? `${definition.name}-${kebab(key)}`;
}

/** The command-line flags of a pass: its own flag (setting `main`), then one per other option. */
export function flagsOf(definition: PassDefinition): FlagSpec[] {
  const flags: FlagSpec[] = [];
  const main = definition.main ? definition.options[definition.main] : undefined;
  const placeholder = (spec: OptionSpec, key: string) => spec.value ?? kebab(key);
  if (main && definition.main) {
    const optional = main.default !== undefined;
    const value = placeholder(main, definition.main);
    flags.push({
      key: definition.main,
      flag: definition.name,
      syntax: `--${definition.name} ${optional ? `[${value}]` : `<${value}>`}`,
      help: `${definition.description}: ${main.help}${
        optional ? ` (no value: ${showDefault(main.default) ?? "none"})` : ""
      }`,
      repeatable: main.kind === "list",
      choices: main.choices,
      enables: true,
    });
  } else {
    flags.push({
      flag: definition.name,
      syntax: `--${definition.name}`,
      help: definition.description,
      repeatable: false,
      enables: true,
    });
  }
  for (const [key, spec] of Object.entries(definition.options)) {
    if (key === definition.main) continue;
    const flag = flagOf(definition, key);
    const shown = spec.kind === "flag" ? undefined : showDefault(spec.default);
    flags.push({
      key,
      flag,
      syntax: spec.kind === "flag" ? `--${flag}` : `--${flag} <${placeholder(spec, key)}>`,
      help: shown === undefined ? spec.help : `${spec.help} (default ${shown})`,
      repeatable: spec.kind === "list",
      choices: spec.choices,
      enables: false,
    });
  }
  return flags;
}

/** A default as a user would type it, or undefined when there is nothing worth showing. */
function showDefault(value: unknown): string | undefined {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object" && value !== null && "module" in value && "name" in value) {
    return `${value.module}/${value.name}`;
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

// ---- option builders -------------------------------------------------------------------------

/** What every option builder (`flag`, `string`, `integer`, `list`, ...) takes. */
export interface BuilderOptions<T> {
  /** One line of help. */
  help: string;
  /** Flag name when not `<pass>-<key>`. */
  flag?: string;
  /** Help placeholder. */
  value?: string;
  /** Default value. */
  default?: T;
}

/** An option spec with a default, so `create` always sees a value (for explicit schema types). */
export type WithDefault<T> = OptionSpec<T> & { default: T };

/** The spec type, with `default` required when the options gave one (so `create` sees a value). */
export type Spec<T, O> =
  & OptionSpec<T>
  & (O extends { default: unknown } ? { default: T } : unknown);

const describe = (raw: unknown) => typeof raw === "string" ? `"${raw}"` : JSON.stringify(raw);

/**
 * A boolean switch (`--allow-unwind-change`). Configurations may use true/false.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { flag } from "./define.ts";
 * assert.strictEqual(flag({ help: "x" }).parse("true"), true);
 * assert.throws(() => flag({ help: "x" }).parse("yes please"), /true or false/);
 * ```
 */
export function flag(options: BuilderOptions<boolean>): OptionSpec<boolean> & { default: boolean } {
  return {
    kind: "flag",
    default: false,
    ...options,
    parse(raw) {
      if (raw === true || raw === "true") return true;
      if (raw === false || raw === "false") return false;
      throw new RangeError(`${describe(raw)} is not a switch: use true or false`);
    },
  };
}

/**
 * One string, optionally limited to `choices` and checked by `check` (which throws RangeError).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { string } from "./define.ts";
 * const mode = string({ help: "mode", choices: ["trap", "hook"] });
 * assert.strictEqual(mode.parse("hook"), "hook");
 * assert.throws(() => mode.parse("hok"), /use one of "trap", "hook"/);
 * ```
 */
export function string<
  const C extends string = string,
  const O extends BuilderOptions<C> & { choices?: readonly C[]; check?: (value: string) => void } =
    BuilderOptions<
      C
    >,
>(options: O & { choices?: readonly C[] }): Spec<C, O> {
  const { check, ...rest } = options;
  return {
    kind: "value",
    ...rest,
    parse(raw) {
      if (typeof raw !== "string" || raw === "") {
        throw new RangeError(`${describe(raw)} is not a non-empty string`);
      }
      if (options.choices && !options.choices.includes(raw as C)) {
        throw new RangeError(
          `"${raw}" is not accepted: use one of ${options.choices.map((c) => `"${c}"`).join(", ")}`,
        );
      }
      check?.(raw);
      return raw as C;
    },
  } as Spec<C, O>;
}

/**
 * A whole number within `[min, max]`; numeric strings are accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { integer } from "./define.ts";
 * assert.strictEqual(integer({ help: "n", min: 1 }).parse("64"), 64);
 * assert.throws(() => integer({ help: "n", min: 1 }).parse("0"), /from 1/);
 * ```
 */
export function integer<const O extends BuilderOptions<number> & { min?: number; max?: number }>(
  options: O,
): Spec<number, O> {
  const min = options.min ?? 0;
  const max = options.max ?? 0x7fffffff;
  return {
    kind: "value",
    value: "n",
    ...options,
    parse(raw) {
      const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
        throw new RangeError(`${describe(raw)} is not a whole number from ${min} to ${max}`);
      }
      return n;
    },
  } as Spec<number, O>;
}

/**
 * A list of strings (repeatable on the command line); a single string means a list of one.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { list } from "./define.ts";
 * assert.deepStrictEqual(list({ help: "names" }).parse("debug"), ["debug"]);
 * assert.deepStrictEqual(list({ help: "names" }).parse(["a", "b"]), ["a", "b"]);
 * ```
 */
export function list<
  const O extends BuilderOptions<string[]> & {
    check?: (value: string) => void;
    choices?: readonly string[];
  },
>(options: O): Spec<string[], O> {
  const { check, ...rest } = options;
  return {
    kind: "list",
    ...rest,
    parse(raw) {
      const items = typeof raw === "string" ? [raw] : raw;
      if (!Array.isArray(items) || items.some((x) => typeof x !== "string" || x === "")) {
        throw new RangeError(`${describe(raw)} is not a string or a list of non-empty strings`);
      }
      for (const item of items) {
        if (options.choices && !options.choices.includes(item)) {
          throw new RangeError(
            `"${item}" is not accepted: use ${options.choices.map((c) => `"${c}"`).join(", ")}`,
          );
        }
        check?.(item);
      }
      return [...items];
    },
  } as Spec<string[], O>;
}

/**
 * An option with its own parser (e.g. `module/name`, or `"geometric"` or a number).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { custom } from "./define.ts";
 * const size = custom({ help: "size", value: "n|auto", parse: (raw) => raw === "auto" ? 0 : Number(raw) });
 * assert.strictEqual(size.parse("auto"), 0);
 * ```
 */
export function custom<
  // deno-lint-ignore no-explicit-any
  const O extends BuilderOptions<any> & { parse(raw: unknown): unknown },
>(options: O): Spec<ReturnType<O["parse"]>, O> {
  return { kind: "value", ...options } as Spec<ReturnType<O["parse"]>, O>;
}
/**
 * A `module/name` pair (an import's module and field), written `env/on_panic`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { importName } from "./define.ts";
 * assert.deepStrictEqual(importName({ help: "hook" }).parse("env/on_panic"), {
 *   module: "env",
 *   name: "on_panic",
 * });
 * ```
 */
export function importName<const O extends BuilderOptions<{ module: string; name: string }>>(
  options: O,
): Spec<{ module: string; name: string }, O> {
  return custom({
    value: "module/name",
    ...options,
    parse(raw: unknown): ImportName {
      if (typeof raw === "object" && raw !== null) {
        const { module, name } = raw as Record<string, unknown>;
        if (typeof module === "string" && typeof name === "string" && module && name) {
          return { module, name };
        }
      }
      const text = typeof raw === "string" ? raw : "";
      const slash = text.indexOf("/");
      if (slash <= 0 || slash === text.length - 1) {
        throw new RangeError(`${describe(raw)} is not an import: write module/name, e.g. env/f`);
      }
      return { module: text.slice(0, slash), name: text.slice(slash + 1) };
    },
  }) as unknown as Spec<ImportName, O>;
}

/** An import's module and field name. */
export interface ImportName {
  /** Import module. */
  module: string;
  /** Import field. */
  name: string;
}
