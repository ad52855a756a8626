import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `--flag value` arguments; unknown flags are a UserError listing the known ones. */
export function parseFlags<O extends Options>(options: O, argv: string[] = process.argv.slice(2)) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(`${(e as Error).message}; known flags: ${Object.keys(options).map((k) => '--' + k).join(' ')}`);
  }
}

export function numFlag(v: string | boolean | undefined, name: string, dflt: number): number {
  if (v === undefined || typeof v === 'boolean') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UserError(`--${name} expects a number, got '${v}'`);
  return n;
}

/**
 * Runs a CLI's main: a UserError prints one line and exits 1; anything else is a bug and
 * prints its stack (exit 2). SIGINT/SIGTERM handlers of the app run before exit.
 */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      if (e instanceof UserError) {
        process.stderr.write(`\nerror: ${e.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`\ninternal error: ${(e as Error)?.stack ?? e}\n`);
      process.exit(2);
    },
  );
}
