import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'apps/corpus-chemrxiv/src/parse.ts', ...args], { encoding: 'utf8' });

test('parse reads an /items page: items as JSON lines, malformed records reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-chemrxiv-'));
  const page = { totalCount: 7, itemHits: [
    { item: { id: 'a1', doi: '10.26434/a1', title: 'Catalysis of X', abstract: 'We study X.', license: { name: 'CC BY 4.0' } } },
    { item: { title: 'no id here' } },
  ] };
  writeFileSync(join(dir, 'page.json'), JSON.stringify(page));
  const r = run(['--file', join(dir, 'page.json')]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { id: 'a1', doi: '10.26434/a1', title: 'Catalysis of X', abstract: 'We study X.', license: 'CC BY 4.0' });
  assert.match(r.stderr, /skipped malformed record itemHits\[1\]: item without an id/);
  assert.match(r.stderr, /1 items of 7/);
  writeFileSync(join(dir, 'bad.json'), '{"totalCount": 3, "itemHits": [');
  const bad = run(['--file', join(dir, 'bad.json')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /error: .*bad\.json.*malformed JSON/);
});
