import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from './errors.ts';
import { fsFault } from './io.ts';

/**
 * One flag of a command: its type, default, allowed values or range and a one-line description, in one place.
 * `deprecated` lists old names that still work (with a one-line notice on stderr) for one release.
 */
export type Flag =
  | { type: 'string'; description: string; default?: string; choices?: readonly string[]; placeholder?: string; required?: boolean; deprecated?: readonly string[] }
  | { type: 'strings'; description: string; placeholder?: string; deprecated?: readonly string[] }
  | { type: 'int'; description: string; default?: number; min?: number; max?: number; placeholder?: string; deprecated?: readonly string[] }
  | { type: 'number'; description: string; default?: number; min?: number; max?: number; exclusiveMin?: boolean; exclusiveMax?: boolean; placeholder?: string; deprecated?: readonly string[] }
  | { type: 'boolean'; description: string; default?: boolean; deprecated?: readonly string[] };

export interface CommandSpec<F extends Record<string, Flag>> {
  /** `project:target`, e.g. 're-lite:train' */
  name: string;
  /** one line: what the command does */
  summary: string;
  /** at least one, each a whole command line (`nx run … -- …`) */
  examples: string[];
  flags: F;
  /** a string flag a single bare argument fills (e.g. 'file' for `parse F.xml`); bare arguments are an error otherwise */
  positional?: Extract<keyof F, string>;
  /** the script, for the `tsx …` usage line; found from process.argv[1] when absent */
  script?: string;
}

type ValueOf<T extends Flag> =
  T extends { type: 'boolean' } ? boolean
  : T extends { type: 'strings' } ? string[]
  : T extends { type: 'int' | 'number'; default: number } ? number
  : T extends { type: 'int' | 'number' } ? number | undefined
  : T extends { type: 'string'; choices: readonly (infer C extends string)[] } ? (T extends { default: string } | { required: true } ? C : C | undefined)
  : T extends { type: 'string'; default: string } | { type: 'string'; required: true } ? string
  : string | undefined;

/** The parsed values: keys exactly the flag names as typed (kebab-case), values typed by each flag's spec. */
export type FlagValues<F extends Record<string, Flag>> = { -readonly [K in keyof F]: ValueOf<F[K]> };

export interface Command<F extends Record<string, Flag>> {
  spec: CommandSpec<F>;
  /** Parses and validates; `--help`/`-h` prints the help and exits 0. Errors are one-line UserErrors. */
  parse(argv?: string[]): FlagValues<F>;
  /** Like parse, but returns `{ help: true }` instead of printing and exiting (for tests and wrappers). */
  tryParse(argv?: string[]): { help: true } | { help: false; values: FlagValues<F>; notices: string[] };
  help(): string;
}

/** `nx run` options that Nx takes for itself; `argvFromNx` gives them back when the command declares one of them. */
const NX_VALUE_OPTIONS = new Set(['configuration', 'c', 'project', 'p', 'target', 't', 'output-style', 'outputStyle', 'runner', 'exclude', 'tui-auto-exit', 'tuiAutoExit', 'parallel', 'max-parallel', 'maxParallel']);
const NX_BOOLEAN_OPTIONS = new Set(['batch', 'verbose', 'skip-nx-cache', 'skipNxCache', 'skip-remote-cache', 'skipRemoteCache', 'skip-sync', 'skipSync', 'tui', 'nx-bail', 'nxBail', 'nx-ignore-cycles', 'nxIgnoreCycles', 'exclude-task-dependencies', 'excludeTaskDependencies', 'graph', 'prod', 'dte', 'no-dte', 'agents', 'no-agents', 'cloud', 'no-cloud']);

/** What a flag accepts, in words: 'an integer ≥ 1', 'one of adam, sgd', 'a number > 0 and < 1'. */
export function describeAllowed(flag: Flag): string {
  switch (flag.type) {
    case 'boolean':
      return 'no value (a switch)';
    case 'string':
      return flag.choices ? `one of ${flag.choices.join(', ')}` : 'a value';
    case 'strings':
      return 'a value (the flag may be repeated)';
    case 'int':
    case 'number': {
      const what = flag.type === 'int' ? 'an integer' : 'a number';
      const exMin = flag.type === 'number' && flag.exclusiveMin, exMax = flag.type === 'number' && flag.exclusiveMax;
      if (flag.min !== undefined && flag.max !== undefined) {
        return !exMin && !exMax ? `${what} from ${flag.min} to ${flag.max}` : `${what} ${exMin ? '>' : '≥'} ${flag.min} and ${exMax ? '<' : '≤'} ${flag.max}`;
      }
      if (flag.min !== undefined) return `${what} ${exMin ? '>' : '≥'} ${flag.min}`;
      if (flag.max !== undefined) return `${what} ${exMax ? '<' : '≤'} ${flag.max}`;
      return what;
    }
  }
}

const INT_RE = /^[+-]?\d+$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Checks one raw value against its flag; returns the typed value or throws the one-line error. */
export function checkFlagValue(name: string, flag: Flag, raw: string): string | number {
  const bad = () => new UserError(`--${name} must be ${describeAllowed(flag)}, got '${raw}'`);
  if (flag.type === 'string') {
    if (flag.choices && !flag.choices.includes(raw)) throw bad();
    return raw;
  }
  if (flag.type === 'strings') return raw;
  if (flag.type === 'boolean') throw bad();
  const s = raw.trim();
  if (!(flag.type === 'int' ? INT_RE : NUMBER_RE).test(s)) throw bad();
  const n = Number(s);
  if (!Number.isFinite(n) || (flag.type === 'int' && !Number.isSafeInteger(n))) throw bad();
  if (flag.min !== undefined && (n < flag.min || (flag.type === 'number' && flag.exclusiveMin && n === flag.min))) throw bad();
  if (flag.max !== undefined && (n > flag.max || (flag.type === 'number' && flag.exclusiveMax && n === flag.max))) throw bad();
  return n;
}

function placeholder(flag: Flag): string {
  if (flag.type === 'boolean') return '';
  if (flag.placeholder) return flag.placeholder;
  if (flag.type === 'string') return flag.choices ? flag.choices.join('|') : 'VALUE';
  if (flag.type === 'strings') return 'VALUE';
  return flag.type === 'int' ? 'N' : 'X';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** The repository root: where nx.json is, above this file. */
export const workspaceRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'nx.json')) && dirname(d) !== d) d = dirname(d);
  return d;
})();

function scriptOf(spec: { script?: string }): string {
  const s = spec.script ?? process.argv[1] ?? '';
  const r = isAbsolute(s) ? relative(workspaceRoot, s) : s;
  return r && !r.startsWith('..') ? r : s;
}

/**
 * Declares a command: its flags with types, defaults, ranges and descriptions. `parse()` validates every value
 * before any work and answers `--help`; the same spec renders the help, so the two cannot drift apart.
 */
export function defineCommand<const F extends Record<string, Flag>>(spec: CommandSpec<F>): Command<F> {
  const flags = spec.flags as Record<string, Flag>;
  const alias = new Map<string, string>();
  for (const [name, flag] of Object.entries(flags)) {
    if (!flag.description) throw new Error(`${spec.name}: --${name} has no description`);
    if (name === 'help' || name === 'h') throw new Error(`${spec.name}: --${name} is the help flag`);
    for (const old of flag.deprecated ?? []) {
      if (flags[old] || alias.has(old)) throw new Error(`${spec.name}: deprecated name --${old} is taken`);
      alias.set(old, name);
    }
    if (flag.type === 'string' && flag.default !== undefined && flag.choices && !flag.choices.includes(flag.default)) {
      throw new Error(`${spec.name}: --${name} default '${flag.default}' is not one of its choices`);
    }
  }
  if (spec.examples.length === 0) throw new Error(`${spec.name}: give at least one example`);
  const known = (n: string) => flags[n] ?? (alias.has(n) ? flags[alias.get(n)!] : undefined);

  function tryParse(argv: string[] = cliArgv()) {
    const notices: string[] = [];
    // a value-taking flag takes the next argument whatever it starts with but '--' (so `--lr -1` reaches validation)
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--help' || a === '-h') return { help: true } as const;
      if (a === '--') { args.push(...argv.slice(i)); break; }
      const m = /^--([^=]+)$/.exec(a);
      const f = m ? known(m[1]) : undefined;
      if (m && f && f.type !== 'boolean') {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new UserError(`--${m[1]} needs a value: ${describeAllowed(f)}${f.type === 'string' && !f.choices ? ` (${placeholder(f)})` : ''}`);
        args.push(`--${m[1]}=${next}`);
        i++;
        continue;
      }
      // a bare switch: spelled with its value, so the string-typed parse below cannot take the next flag as its value
      if (m && f && f.type === 'boolean') { args.push(`--${m[1]}=true`); continue; }
      // --no-X for a boolean X (unless no-X is itself a flag)
      const neg = /^--no-(.+)$/.exec(a);
      if (neg && !known(`no-${neg[1]}`) && known(neg[1])?.type === 'boolean') { args.push(`--${neg[1]}=false`); continue; }
      args.push(a);
    }
    const options: NonNullable<ParseArgsConfig['options']> = {};
    for (const n of [...Object.keys(flags), ...alias.keys()]) options[n] = { type: 'string' };
    const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
    const raw = new Map<string, string | boolean>();
    const repeated = new Map<string, string[]>();
    const given = new Map<string, string>();
    const positionals: string[] = [];
    for (const t of tokens) {
      if (t.kind === 'option-terminator') continue;
      if (t.kind === 'positional') { positionals.push(t.value); continue; }
      const name = alias.get(t.name) ?? t.name;
      const flag = flags[name];
      if (!flag || t.rawName.startsWith('-') && !t.rawName.startsWith('--')) {
        const guess = Object.keys(flags).map((k) => [k, editDistance(t.name, k)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = guess && t.name.length > 2 && guess[1] <= Math.max(1, Math.floor(t.name.length / 3)) ? `; did you mean --${guess[0]}?` : '';
        throw new UserError(`unknown flag '${t.rawName}' for ${spec.name}${hint} (${spec.name} -- --help lists the flags)`);
      }
      if (alias.has(t.name)) {
        const msg = `--${t.name} is deprecated; use --${name}`;
        if (!notices.includes(msg)) notices.push(msg);
      }
      const prev = given.get(name);
      if (prev !== undefined && prev !== t.name) throw new UserError(`--${prev} and --${t.name} are the same flag (--${name}); give it once`);
      given.set(name, t.name);
      if (flag.type === 'strings') {
        if (t.value === undefined) throw new UserError(`--${t.name} needs a value: ${describeAllowed(flag)}`);
        repeated.set(name, [...(repeated.get(name) ?? []), t.value]);
        continue;
      }
      if (flag.type === 'boolean') {
        if (t.value === undefined) raw.set(name, true);
        else if (t.value === 'true' || t.value === 'false') raw.set(name, t.value === 'true');
        else throw new UserError(`--${t.name} is a switch and takes no value, got '${t.value}'`);
      } else {
        if (t.value === undefined) throw new UserError(`--${t.name} needs a value: ${describeAllowed(flag)}`);
        raw.set(name, t.value);
      }
    }
    if (positionals.length) {
      if (spec.positional && positionals.length === 1 && !raw.has(spec.positional)) raw.set(spec.positional, positionals[0]);
      else throw new UserError(`unexpected argument '${positionals[spec.positional && !raw.has(spec.positional) ? 1 : 0]}' for ${spec.name}: flags are --name value (${spec.name} -- --help lists them)`);
    }
    const values: Record<string, unknown> = {};
    for (const [name, flag] of Object.entries(flags)) {
      const r = raw.get(name);
      const shown = given.get(name) ?? name;
      if (flag.type === 'boolean') values[name] = r === undefined ? flag.default ?? false : r;
      else if (flag.type === 'strings') values[name] = repeated.get(name) ?? [];
      else if (r === undefined) {
        if (flag.type === 'string' && flag.required) throw new UserError(`--${name} ${placeholder(flag)} is required: ${flag.description}`);
        values[name] = flag.default;
      } else values[name] = checkFlagValue(shown, flag, r as string);
    }
    return { help: false, values: values as FlagValues<F>, notices } as const;
  }

  function help(): string {
    const [project, target] = spec.name.split(':');
    const rows = Object.entries(flags).map(([name, f]) => {
      const ph = placeholder(f);
      const left = `--${name}${ph ? ' ' + ph : ''}`;
      const facts: string[] = [];
      if (f.type === 'int' || f.type === 'number') facts.push(describeAllowed(f));
      if (f.type === 'string' && f.required) facts.push('required');
      if (f.type !== 'strings' && f.default !== undefined && f.type !== 'boolean') facts.push(`default ${f.type === 'string' && f.default === '' ? "''" : f.default}`);
      if (f.type === 'strings') facts.push('repeatable');
      if (f.type === 'boolean' && f.default) facts.push('default on; --no-' + name + ' turns it off');
      if (f.deprecated?.length) facts.push(`old name${f.deprecated.length > 1 ? 's' : ''} ${f.deprecated.map((d) => '--' + d).join(', ')}`);
      return { left, text: f.description + (facts.length ? ` [${facts.join('; ')}]` : '') };
    });
    const width = Math.min(34, Math.max(...rows.map((r) => r.left.length), 10) + 2);
    const lines = [
      `${spec.name}: ${spec.summary}`,
      '',
      `usage: nx run ${project}:${target} -- [flags]`,
      `       npx tsx ${scriptOf(spec)} [flags]`,
      '',
      'flags:',
      ...rows.map((r) => (r.left.length > width - 2 ? `  ${r.left}\n  ${' '.repeat(width)}${r.text}` : `  ${r.left.padEnd(width)}${r.text}`)),
      `  ${'--help, -h'.padEnd(width)}this help`,
      '',
      `example${spec.examples.length > 1 ? 's' : ''}:`,
      ...spec.examples.map((e) => `  ${e}`),
      '',
      `Through Nx, give the flags after '--' (nx run ${project}:${target} -- --flag value): Nx keeps --batch, --parallel,`,
      `--verbose, -c and --help for itself otherwise; on Linux the command reads them back from the nx command line.`,
    ];
    return lines.join('\n') + '\n';
  }

  return {
    spec,
    tryParse,
    help,
    parse(argv?: string[]) {
      const r = tryParse(argv);
      if (r.help) {
        process.stdout.write(process.env.BIORE_CLI_SPEC === 'json' ? JSON.stringify({ ...specJson(spec), help: help() }) + '\n' : help());
        process.exit(0);
      }
      for (const n of r.notices) process.stderr.write(`${n}\n`);
      return r.values;
    },
  };
}

/** The spec as plain JSON (`BIORE_CLI_SPEC=json … --help` prints it with the help text as `help`), for tools and tests. */
export function specJson<F extends Record<string, Flag>>(spec: CommandSpec<F>): Record<string, unknown> {
  return { name: spec.name, summary: spec.summary, examples: spec.examples, script: scriptOf(spec), flags: spec.flags };
}

/**
 * The command's arguments. Under `nx run`, Nx keeps some flags for itself (`--batch 4` becomes Nx's batch mode
 * and a stray `4`; with `--`, whatever came before it is dropped): when this process is the target's own
 * `tsx <script>` command, the arguments are read back from the nx process's command line (Linux /proc), minus
 * the options only Nx understands. Elsewhere, and off Linux, process.argv.
 */
export function cliArgv(argv = process.argv): string[] {
  // only the target's own process reads the nx command line: a process it starts (the same script as a child
  // with arguments of its own) inherits this mark and gets its own argv
  const owner = process.env.BIORE_ARGV_OWNER;
  const fromNx = owner && owner !== String(process.pid) ? undefined : argvFromNx(argv);
  process.env.BIORE_ARGV_OWNER ??= String(process.pid);
  return fromNx ?? argv.slice(2);
}

interface NxTarget { command?: string; forwardAllArgs?: boolean; extra: boolean }

function nxTargetCommand(project: string, target: string): NxTarget | undefined {
  for (const group of ['apps', 'libs', 'tools']) {
    let names: string[];
    try { names = readdirSync(join(workspaceRoot, group)); } catch { continue; }
    for (const n of names) {
      const p = join(workspaceRoot, group, n, 'project.json');
      if (!existsSync(p)) continue;
      try {
        const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; targets?: Record<string, { executor?: string; options?: Record<string, unknown> }> };
        if (j.name !== project) continue;
        const t = j.targets?.[target];
        if (!t || t.executor !== 'nx:run-commands' || !t.options) return undefined;
        const { command, forwardAllArgs, cwd, ...rest } = t.options as { command?: string; forwardAllArgs?: boolean; cwd?: string };
        return { command, forwardAllArgs, extra: Object.keys(rest).some((k) => !['env', 'envFile', 'color', 'tty'].includes(k)) || (cwd !== undefined && cwd !== '{workspaceRoot}') };
      } catch { return undefined; }
    }
  }
  return undefined;
}

function parentOf(pid: number): { ppid: number; argv: string[] } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    const argv = readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0');
    if (argv[argv.length - 1] === '') argv.pop();
    return { ppid, argv };
  } catch {
    return undefined;
  }
}

/** The user's arguments from the `nx run project:target …` command line above this process, or undefined. */
export function argvFromNx(argv = process.argv, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const project = env.NX_TASK_TARGET_PROJECT, target = env.NX_TASK_TARGET_TARGET;
  if (!project || !target || process.platform !== 'linux') return undefined;
  const t = nxTargetCommand(project, target);
  // only the target's own command, a plain `tsx <script>` with every argument forwarded
  const words = t?.command?.trim().split(/\s+/) ?? [];
  if (!t || t.extra || t.forwardAllArgs === false || words.length !== 2 || !/(^|\/)tsx$/.test(words[0])) return undefined;
  if (!argv[1] || resolve(workspaceRoot, words[1]) !== resolve(argv[1])) return undefined;
  let pid = process.pid;
  for (let depth = 0; depth < 8; depth++) {
    const p = parentOf(pid);
    if (!p || p.ppid <= 1) return undefined;
    pid = p.ppid;
    const a = p.argv;
    const bin = a.findIndex((x) => /(^|\/)nx(\.js)?$/.test(x) || /nx\/bin\/nx\.js$/.test(x));
    if (bin < 0 || a[0] === 'sh' || a[0] === '/bin/sh') continue;
    const rest = a.slice(bin + 1);
    let at = -1;
    if (rest[0] === 'run') {
      at = rest.findIndex((x, i) => i > 0 && (x === `${project}:${target}` || x.startsWith(`${project}:${target}:`)));
    } else if (rest[0] === target && rest[1] === project) at = 1;
    if (at < 0) return undefined; // an nx command of another shape (run-many, affected): leave Nx's forwarding alone
    return withoutNxOptions(rest.slice(at + 1));
  }
  return undefined;
}

/** Drops the `nx run` options only Nx understands from the user's arguments; everything after `--` is kept. */
export function withoutNxOptions(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { out.push(...args.slice(i + 1)); break; }
    const m = /^--?([^=]+)(=.*)?$/.exec(a);
    if (m && NX_VALUE_OPTIONS.has(m[1])) {
      if (!m[2] && !(m[1] === 'parallel' && (args[i + 1] ?? '--').startsWith('-'))) i++;
      continue;
    }
    if (m && NX_BOOLEAN_OPTIONS.has(m[1]) && m[1] !== 'batch') continue;
    out.push(a);
  }
  return out;
}

/** Parses `--flag value` arguments; unknown flags are a UserError listing the known ones. (Older form: prefer defineCommand.) */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(options: O, argv: string[] = cliArgv()) {
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
 * Runs a CLI's main: a UserError prints one line and exits 1, and so does a file-system fault that names its
 * path (EACCES, EROFS, ENOSPC, ENOENT …); anything else is a bug and prints its stack (exit 2).
 * SIGINT/SIGTERM handlers of the app run before exit.
 */
export function runCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      const u = e instanceof UserError ? e : fsFault(e);
      if (u) {
        process.stderr.write(`\nerror: ${u.message.split('\n')[0]}\n`);
        process.exit(1);
      }
      process.stderr.write(`\ninternal error: ${(e as Error)?.stack ?? e}\n`);
      process.exit(2);
    },
  );
}

const seconds = 'seconds';

/**
 * Flags that mean the same thing in every app, defined once: commands spread them (`...pick(COMMON_FLAGS, …)`
 * or `batch: { ...COMMON_FLAGS.batch, default: 16 }`) instead of writing their own.
 */
export const COMMON_FLAGS = {
  backend: { type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], description: 'tfjs backend (else BIORE_BACKEND, else auto: tensorflow, then wasm, then cpu)' },
  data: { type: 'string', placeholder: 'DIR', description: 'data root (else BIORE_DATA, else corpora/, else ../shared/data)' },
  out: { type: 'string', placeholder: 'DIR', deprecated: ['output'], description: 'output folder' },
  model: { type: 'string', placeholder: 'DIR', description: 'model folder' },
  input: { type: 'string', placeholder: 'FILE', description: 'input file' },
  corpus: { type: 'string', placeholder: 'PATH', description: 'pre-training text: a corpus:build folder or its manifest.json, or a text file with one document a line' },
  seed: { type: 'int', min: 0, default: 42, description: 'random seed (sampling, initialisation, batch order)' },
  resume: { type: 'boolean', description: 'continue from the checkpoint in the output folder (a fresh run otherwise)' },
  force: { type: 'boolean', description: 'redo every stage, even when its output is current' },
  quiet: { type: 'boolean', description: 'no progress lines on stderr' },
  'max-time': { type: 'number', min: 0, default: 0, placeholder: 'S', description: `training budget in ${seconds}; a checkpoint is written when it runs out (0: no limit)` },
  'max-steps': { type: 'int', min: 0, default: 0, description: 'stop after this many optimizer steps (0: no limit)' },
  'checkpoint-every': { type: 'int', min: 0, default: 200, description: 'optimizer steps between checkpoints (0: only at the end)' },
  'limit-train': { type: 'int', min: 1, deprecated: ['max-train'], description: 'train on a seeded sample of N training instances (all when absent)' },
  'limit-eval': { type: 'int', min: 1, deprecated: ['max-eval'], description: 'score a seeded sample of N instances of each evaluation split (all when absent)' },
  'limit-docs': { type: 'int', min: 1, description: 'read or fetch at most N documents (all when absent)' },
  batch: { type: 'int', min: 1, default: 32, deprecated: ['batch-size'], description: 'examples per batch' },
  epochs: { type: 'int', min: 1, default: 10, description: 'passes over the training data' },
  lr: { type: 'number', min: 0, exclusiveMin: true, description: 'learning rate' },
  clip: { type: 'number', min: 0, description: 'gradient norm clipping threshold (0: none)' },
  dropout: { type: 'number', min: 0, max: 1, exclusiveMax: true, description: 'dropout probability' },
  hidden: { type: 'int', min: 1, description: 'hidden size' },
  layers: { type: 'int', min: 1, description: 'number of layers' },
  dataset: { type: 'string', choices: ['chemprot', 'ddi', 'gad', 'aimed'], default: 'chemprot', description: 'relation extraction dataset' },
  fold: { type: 'int', min: 1, max: 10, placeholder: 'K', description: 'cross-validation fold of gad and aimed, numbered 1..10 for both (chemprot and ddi have fixed splits)' },
  indicator: { type: 'string', choices: ['tags', 'replacement'], description: 'entity indicator: tags (<chem> … </chem>) or replacement (@CHEMICAL$)' },
  optimizer: { type: 'string', choices: ['adam', 'sgd', 'adamw'], default: 'adam', description: 'optimizer' },
  'max-length': { type: 'int', min: 2, placeholder: 'N', description: 'longest input in word pieces; longer ones are cut' },
  workers: { type: 'int', min: 1, description: 'data-parallel gradient workers, the main thread included (same updates up to summation order); default BIORE_WORKERS, else the number of cores' },
  digits: { type: 'int', min: 0, max: 17, default: 6, description: 'decimals written per vector component' },
  tokenizer: { type: 'string', choices: ['words', 'whitespace'], default: 'words', description: 'how a raw text line is split into tokens: words (the text library’s word tokenizer, as in pre-training) or whitespace' },
} as const satisfies Record<string, Flag>;

/** The named members of a flag table, e.g. `pick(COMMON_FLAGS, 'backend', 'data')`. */
export function pick<T extends Record<string, Flag>, K extends keyof T>(table: T, ...names: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const n of names) out[n] = table[n];
  return out;
}
