/** A tiny `--name value` parser with typed, checked options and clear errors. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type OptionSpec =
  { kind: 'int'; min: number; max: number } | { kind: 'number'; min: number; max: number } | { kind: 'string'; choices?: string[] };

export function parseArgs<S extends Record<string, OptionSpec>>(
  argv: string[],
  spec: S,
  defaults: { [K in keyof S]: string | number },
): { [K in keyof S]: string | number } {
  const out = { ...defaults } as Record<string, string | number>;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!flag.startsWith('--')) throw new UsageError(`unexpected argument '${flag}'`);
    const name = flag.slice(2);
    const s = spec[name];
    if (!s)
      throw new UsageError(
        `unknown option '${flag}' (options: ${Object.keys(spec)
          .map((k) => `--${k}`)
          .join(', ')})`,
      );
    const raw = argv[++i];
    if (raw === undefined || raw.startsWith('--')) throw new UsageError(`option '${flag}' needs a value`);
    if (s.kind === 'string') {
      if (s.choices && !s.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${s.choices.join(', ')}; got '${raw}'`);
      out[name] = raw;
    } else {
      const v = Number(raw);
      if (!Number.isFinite(v) || (s.kind === 'int' && !Number.isInteger(v)) || v < s.min || v > s.max)
        throw new UsageError(`--${name} must be ${s.kind === 'int' ? 'an integer' : 'a number'} in [${s.min}, ${s.max}]; got '${raw}'`);
      out[name] = v;
    }
  }
  return out as { [K in keyof S]: string | number };
}

/**
 * parseArgs for a CLI's main: checked options; 'help' after printing the usage and the defaults for
 * --help or -h (the caller exits with status 0); or null after printing the reason and the usage (the
 * caller exits with status 2). `check` adds the CLI's own rules, throwing a UsageError.
 */
export function parseCliArgs<S extends Record<string, OptionSpec>>(
  argv: string[],
  spec: S,
  defaults: { [K in keyof S]: string | number },
  usage: string,
  check: (a: { [K in keyof S]: string | number }) => void = () => {},
): { [K in keyof S]: string | number } | 'help' | null {
  const withDefaults = `${usage}
defaults: ${Object.entries(defaults)
    .filter(([, v]) => v !== '' && v !== 0)
    .map(([k, v]) => `--${k} ${String(v)}`)
    .join(' ')}`;
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(withDefaults);
    return 'help';
  }
  try {
    const a = parseArgs(argv, spec, defaults);
    check(a);
    return a;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n${withDefaults}`);
    return null;
  }
}
