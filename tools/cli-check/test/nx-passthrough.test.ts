// `nx run <project>:<target> --flag value` delivers every flag, --batch (Nx's own batch-mode switch) included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { root } from '../src/commands.ts';

function nx(args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', BIORE_QUIET: '1', FORCE_COLOR: '0', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('NX_TASK_')) delete env[k];
  const r = spawnSync('npx', ['nx', 'run', args[0], '--outputStyle=stream', ...args.slice(1)], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
  // task output lines carry a `project: ` prefix; a command's JSON may span lines
  const text = r.stdout.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').replace(/^[\w-]+:\s?/, '')).join('\n');
  const json: Record<string, unknown>[] = [];
  for (const m of text.matchAll(/^\{[^\n]*\}$|^\{\n[\s\S]*?\n\}$/gm)) { try { json.push(JSON.parse(m[0])); } catch { /* not JSON */ } }
  return { status: r.status, out: r.stdout + r.stderr, json };
}

const linux = process.platform === 'linux';

test('nx run cli-check:echo-flags --batch 4 delivers batch 4, in every form', { skip: !linux && 'the argv read-back uses /proc (Linux); elsewhere pass the flags after --' }, () => {
  for (const form of [['--batch', '4', '--hidden', '3'], ['--batch=4', '--hidden=3'], ['--', '--batch', '4', '--hidden', '3'], ['--hidden', '3', '--', '--batch', '4'], ['--batch', '4', '--verbose', '--hidden', '3', '--skip-nx-cache']]) {
    const r = nx(['cli-check:echo-flags', ...form]);
    assert.equal(r.status, 0, r.out);
    const got = r.json.find((j) => 'batch' in j);
    assert.ok(got, r.out);
    assert.equal(got.batch, 4, `${form.join(' ')} → ${JSON.stringify(got)}`);
    assert.equal(got.hidden, 3, `${form.join(' ')} → ${JSON.stringify(got)}`);
  }
});

test('nx run cse-lm:bench --batch 4 benches batch 4 (it printed batch 32 when Nx kept --batch)', { skip: !linux && 'Linux only' }, () => {
  const r = nx(['cse-lm:bench', '--batch', '4', '--hidden', '8', '--seq-len', '10', '--embedding-size', '4', '--windows', '1', '--backend', 'cpu']);
  assert.equal(r.status, 0, r.out);
  const report = r.json.find((j) => 'charsPerSec' in j);
  assert.ok(report, r.out);
  assert.equal(report.batch, 4);
  assert.equal(report.hidden, 8);
});

test('a child process the target starts with arguments of its own gets those, not the nx command line', { skip: !linux && 'Linux only' }, () => {
  const r = nx(['cli-check:echo-flags', '--batch', '4', '--spawn-child']);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.json.find((j) => 'batch' in j)?.batch, 4, r.out);
  const child = r.json.find((j) => 'child' in j)?.child as Record<string, unknown> | undefined;
  assert.ok(child, r.out);
  assert.equal(child.hidden, 7, `the child read ${JSON.stringify(child)}`);
  assert.equal(child.batch, 32, 'the parent\'s --batch 4 did not leak into the child');
  assert.equal(child['spawn-child'], false, 'nor its --spawn-child (which would recurse)');
});

test('a bad value through nx run is still one error line', { skip: !linux && 'Linux only' }, () => {
  const r = nx(['cli-check:echo-flags', '--batch', '0']);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /error: --batch must be an integer ≥ 1, got '0'/);
});
