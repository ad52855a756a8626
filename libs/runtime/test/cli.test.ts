import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMON_FLAGS, Progress, UserError, defineCommand, pick, withoutNxOptions } from '@biore/runtime';

const cmd = defineCommand({
  name: 'demo:train',
  summary: 'a demo trainer',
  examples: ['nx run demo:train -- --batch 8'],
  flags: {
    ...pick(COMMON_FLAGS, 'batch', 'epochs', 'lr', 'optimizer', 'resume', 'fold', 'dropout', 'limit-train', 'out'),
    hidden: { ...COMMON_FLAGS.hidden, default: 256 },
  },
});

const values = (argv: string[]) => {
  const r = cmd.tryParse(argv);
  assert.equal(r.help, false);
  return r.help ? undefined! : r;
};
const error = (argv: string[]) => {
  try { cmd.tryParse(argv); } catch (e) { assert.ok(e instanceof UserError); return (e as Error).message; }
  assert.fail(`no error for ${argv.join(' ')}`);
};

test('defaults fill in, and values come typed by their flag', () => {
  const { values: v } = values(['--lr', '1e-3', '--fold', '3', '--resume']);
  assert.deepEqual(v, { batch: 32, epochs: 10, lr: 0.001, optimizer: 'adam', resume: true, fold: 3, dropout: undefined, 'limit-train': undefined, out: undefined, hidden: 256 });
});

test('each bad value is one line naming the flag, the value and what is allowed', () => {
  assert.equal(error(['--batch', '0']), "--batch must be an integer ≥ 1, got '0'");
  assert.equal(error(['--hidden', '2.5']), "--hidden must be an integer ≥ 1, got '2.5'");
  assert.equal(error(['--epochs', 'three']), "--epochs must be an integer ≥ 1, got 'three'");
  assert.equal(error(['--limit-train', '-5']), "--limit-train must be an integer ≥ 1, got '-5'");
  assert.equal(error(['--lr', '-1']), "--lr must be a number > 0, got '-1'");
  assert.equal(error(['--lr=0']), "--lr must be a number > 0, got '0'");
  assert.equal(error(['--optimizer', 'foo']), "--optimizer must be one of adam, sgd, adamw, got 'foo'");
  assert.equal(error(['--fold', '0']), "--fold must be an integer from 1 to 10, got '0'");
  assert.equal(error(['--dropout', '1']), "--dropout must be a number ≥ 0 and < 1, got '1'");
  assert.equal(error(['--batch', '0x10']), "--batch must be an integer ≥ 1, got '0x10'");
  for (const m of [error(['--batch']), error(['--out', '--batch', '3'])]) assert.match(m, /needs a value/);
  assert.match(error(['--bach', '3']), /unknown flag '--bach' for demo:train; did you mean --batch\?/);
  assert.match(error(['stray']), /unexpected argument 'stray'/);
  assert.match(error(['--resume=yes']), /--resume is a switch/);
});

test('an old name works with a notice, and giving both names is an error', () => {
  const r = values(['--batch-size', '8', '--max-train', '100']);
  assert.equal(r.values.batch, 8);
  assert.equal(r.values['limit-train'], 100);
  assert.deepEqual(r.notices, ['--batch-size is deprecated; use --batch', '--max-train is deprecated; use --limit-train']);
  assert.match(error(['--batch-size', '8', '--batch', '4']), /same flag/);
});

test('--no-X turns a switch off; --help and -h ask for help', () => {
  assert.equal(values(['--resume', '--no-resume']).values.resume, false);
  assert.deepEqual(cmd.tryParse(['--batch', '0', '--help']), { help: true });
  assert.deepEqual(cmd.tryParse(['-h']), { help: true });
});

test('the help names every flag with its placeholder, default, range and description, and an example', () => {
  const h = cmd.help();
  assert.match(h, /^usage: nx run demo:train -- \[flags\]$/m);
  assert.match(h, /--batch N\s+examples per batch \[an integer ≥ 1; default 32; old name --batch-size\]/);
  assert.match(h, /--optimizer adam\|sgd\|adamw\s+optimizer \[default adam\]/);
  assert.match(h, /--fold K\s+.*\[an integer from 1 to 10\]/);
  for (const name of Object.keys(cmd.spec.flags)) assert.match(h, new RegExp(`^  --${name}\\b`, 'm'));
  assert.match(h, /nx run demo:train -- --batch 8/);
});

test('a spec that cannot work is refused when declared', () => {
  assert.throws(() => defineCommand({ name: 'x:y', summary: 's', examples: ['e'], flags: { a: { type: 'int', description: '' } } }), /no description/);
  assert.throws(() => defineCommand({ name: 'x:y', summary: 's', examples: ['e'], flags: { a: { type: 'string', description: 'd', choices: ['p'], default: 'q' } } }), /not one of its choices/);
  assert.throws(() => defineCommand({ name: 'x:y', summary: 's', examples: [], flags: {} }), /example/);
});

test('the nx run options only Nx understands are dropped, and --batch with its value is kept', () => {
  assert.deepEqual(withoutNxOptions(['--batch', '4', '--parallel', '2', '--verbose', '-c', 'prod', '--skip-nx-cache', '--hidden', '3']), ['--batch', '4', '--hidden', '3']);
  assert.deepEqual(withoutNxOptions(['--hidden', '3', '--', '--batch', '4', '--verbose']), ['--hidden', '3', '--batch', '4', '--verbose']);
  assert.deepEqual(withoutNxOptions(['--output-style=stream', '--configuration=x', '--lr', '-1']), ['--lr', '-1']);
});

test('progress never passes 100%, prints its last line once, and its ETA respects the time budget', () => {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => { lines.push(s); return true; }) as typeof process.stderr.write;
  try {
    const p = new Progress('epoch', 343, 'sent', false);
    p.tick(343);
    p.tick(1);
    assert.match(p.line(), /^epoch 344\/344 \(100\.0%\)/);
    p.end();
    p.end();
    const t = new Progress('train', 1e15, 'sent', false, 0, { maxSeconds: 60 });
    t.tick(1);
    // by its rate the run would take years; the budget says at most 60 s (a loaded machine may have used a few)
    const eta = (line: string) => { const m = /ETA (?:(\d+)m)?(\d+)s \(max-time\)/.exec(line); assert.ok(m, line); return 60 * Number(m[1] ?? 0) + Number(m[2]); };
    assert.ok(eta(t.line()) <= 60 && eta(t.line()) >= 40, t.line());
    t.setTimeLimit(5);
    assert.ok(eta(t.line()) <= 5, t.line());
  } finally {
    process.stderr.write = write;
  }
  const printed = lines.filter((l) => l.startsWith('epoch'));
  if (!process.stderr.isTTY) assert.equal(printed.length, 1, printed.join(''));
});
