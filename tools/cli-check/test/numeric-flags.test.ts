// Every numeric flag of the RE and LM trainers refuses 0 (where 0 means nothing), a negative, a fraction (for
// integers) and a word before any work: one error line and exit 1, within seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFlagValue, describeAllowed, type Flag } from '@biore/runtime';
import { commandTargets, pool, runScript, specOf } from '../src/commands.ts';

const trainers = commandTargets().filter((t) => ['train', 'finetune', 'pretrain'].includes(t.target));
/** Sizes and counts where 0 can only be a mistake (and `--batch 0` used to hang); not --negatives (0: full softmax). */
const NEVER_ZERO = /^(batch|epochs|hidden|layers|dim|proj|heads|lr|seq-len|window|embedding-size|intermediate|max-length|accumulate|iterations|threads|lstm-hidden)$/;

function rejects(name: string, flag: Flag, value: string): boolean {
  try { checkFlagValue(name, flag, value); return false; } catch { return true; }
}

test('the trainers are found from project.json: re-lite:train, re-bert:finetune, the three pretrain targets', () => {
  for (const n of ['re-lite:train', 're-bert:finetune', 're-bert:pretrain', 'cse-lm:pretrain', 'elmo-lm:pretrain']) assert.ok(trainers.some((t) => `${t.project}:${t.target}` === n), n);
});

const specs = pool(trainers, 2, (t) => specOf(t.script));

for (const [i, t] of trainers.entries()) {
  const name = `${t.project}:${t.target}`;
  test(`${name}: each numeric flag refuses a negative, a word, a fraction for integers, and 0 for sizes`, async () => {
    const { run, spec } = (await specs)[i];
    assert.ok(spec, `${name} prints its spec (exit ${run.code}: ${run.stderr.trim().split('\n').pop()})`);
    const numeric = Object.entries(spec.flags).filter(([, f]) => f.type === 'int' || f.type === 'number');
    assert.ok(numeric.length > 3, `${name} has numeric flags`);
    for (const [flag, f] of numeric) {
      assert.ok(rejects(flag, f, '-1'), `--${flag} -1 is refused (${describeAllowed(f)})`);
      assert.ok(rejects(flag, f, 'abc'), `--${flag} abc is refused`);
      if (f.type === 'int') assert.ok(rejects(flag, f, '2.5'), `--${flag} 2.5 is refused (an integer)`);
      if (NEVER_ZERO.test(flag)) assert.ok(rejects(flag, f, '0'), `--${flag} 0 is refused (${describeAllowed(f)})`);
    }
  });

  test(`${name}: a bad value ends the real command with one error line and exit 1 within seconds`, async () => {
    const { spec } = (await specs)[i];
    assert.ok(spec);
    const numeric = Object.entries(spec.flags).filter(([, f]) => f.type === 'int' || f.type === 'number');
    const pickFlag = (re: RegExp, type?: string) => numeric.find(([n, f]) => re.test(n) && (!type || f.type === type))?.[0];
    const cases: [string, string][] = [];
    const zero = pickFlag(/^batch$/) ?? pickFlag(NEVER_ZERO);
    if (zero) cases.push([zero, '0']);
    const int = pickFlag(/^(hidden|dim|layers|epochs)$/, 'int') ?? numeric.find(([, f]) => f.type === 'int')?.[0];
    if (int) cases.push([int, '2.5']);
    const num = pickFlag(/^lr$/) ?? numeric.find(([, f]) => f.type === 'number')?.[0];
    if (num) cases.push([num, '-1']);
    cases.push([numeric[0][0], 'word']);
    const runs = await pool(cases, 2, ([flag, v]) => runScript(t.script, [`--${flag}`, v], { timeoutMs: 150_000 }));
    for (const [k, [flag, v]] of cases.entries()) {
      const r = runs[k];
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
      assert.equal(r.code, 1, `--${flag} ${v}: exit ${r.code}; ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      assert.equal(errors.length, 1, `one error line for --${flag} ${v}`);
      assert.ok(errors[0].includes(`--${flag}`) && errors[0].includes(`'${v}'`), `names the flag and the value: ${errors[0]}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      // the parse comes before any work: what takes time is node + tsx + the imports on a shared machine
      assert.ok(r.seconds < 120, `--${flag} ${v} answered in ${r.seconds.toFixed(1)} s`);
    }
  });
}
