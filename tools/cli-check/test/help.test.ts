// Every command answers --help: exit 0, a usage line, every flag with a description, an example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandTargets, pool, runScript } from '../src/commands.ts';

const targets = commandTargets();

test('the command list comes from the apps\' project.json files', () => {
  assert.ok(targets.length >= 25, `found ${targets.length} commands`);
  assert.ok(targets.some((t) => t.project === 're-lite' && t.target === 'train'));
});

const results = pool(targets, 2, (t) => runScript(t.script, ['--help']));

for (const [i, t] of targets.entries()) {
  test(`${t.project}:${t.target} --help prints usage, every flag with its description, and an example`, async () => {
    const run = (await results)[i];
    assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const lines = run.stdout.split('\n');
    assert.match(run.stdout, new RegExp(`^usage: nx run ${t.project}:${t.target} -- \\[flags\\]$`, 'm'));
    assert.match(run.stdout, new RegExp(`tsx ${t.script.replace(/[.]/g, '\\.')} \\[flags\\]`));
    const start = lines.indexOf('flags:'), end = lines.findIndex((l) => /^examples?:$/.test(l));
    assert.ok(start >= 0 && end > start, 'a flags section and an example section');
    const flagLines = lines.slice(start + 1, end).map((l, k, all) => ({ l, next: all[k + 1] ?? '' })).filter((x) => /^  --/.test(x.l));
    assert.ok(flagLines.length > 1, 'flags are listed');
    for (const { l, next } of flagLines) {
      // `  --name PLACEHOLDER   description` (or the description on the next line when the left column is long)
      const m = /^  (--\S+)(?: \S+)?\s{2,}(\S.*)$/.exec(l) ?? (/^  (--\S+)(?: \S+)?$/.test(l) ? [l, l.trim(), next.trim()] : null);
      assert.ok(m && m[2] && m[2].length > 3, `${l.trim()} has a description`);
    }
    assert.ok(lines.slice(end + 1).some((l) => /^  (npx )?nx run /.test(l)), 'an example command');
    assert.ok(run.seconds < 120, `answered in ${run.seconds.toFixed(1)} s`);
  });
}
