import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsFault } from '@biore/runtime';

const fixture = join(import.meta.dirname, 'fixtures', 'fs-write.ts');
const isRoot = process.getuid?.() === 0;

function write(args: string[], asNobody = false) {
  const cmd = asNobody ? 'setpriv' : process.execPath;
  const argv = asNobody
    ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '--import', 'tsx', fixture, ...args]
    : ['--import', 'tsx', fixture, ...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NX_TASK_TARGET_PROJECT: '' } });
  return { status: r.status, stderr: r.stderr.trim(), stdout: r.stdout };
}

/** The last stderr line is the one error line, naming the path and the errno code; no stack. */
function assertOneLine(stderr: string, path: string, code: string) {
  const lines = stderr.split('\n').filter(Boolean);
  const err = lines.filter((l) => l.startsWith('error: '));
  assert.equal(err.length, 1, stderr);
  assert.ok(err[0].includes(path), `names the path: ${err[0]}`);
  assert.ok(err[0].includes(`(${code})`), `names the fault: ${err[0]}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

function mountTmpfs(dir: string, opts: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]).status === 0;
}

const dir = mkdtempSync(join(tmpdir(), 'biore-fs-faults-'));
chmodSync(dir, 0o755);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('fsFault turns an errno error into one line naming the path and the fault, and leaves other errors alone', () => {
  const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write', path: '/x/y' });
  assert.equal(fsFault(e)?.message, 'cannot write /x/y: no space left on the device (ENOSPC)');
  assert.equal(fsFault(new Error('boom')), undefined);
  const missing = Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open' });
  assert.match(fsFault(missing, join(dir, 'no', 'such', 'f.json'))!.message, /its folder .*no\/such does not exist \(ENOENT\)/);
});

test('an unwritable --out (EACCES, as an unprivileged user) is one line naming the path, and nothing is left', { skip: !isRoot && 'needs root to switch to the nobody user with setpriv' }, () => {
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o755 });
  for (const how of ['atomic', 'stream', 'dir']) {
    const target = how === 'dir' ? join(locked, 'run') : join(locked, 'out.bin');
    const r = write(['--how', how, '--path', target], true);
    assert.equal(r.status, 1, r.stderr);
    assertOneLine(r.stderr, target, 'EACCES');
  }
  assert.deepEqual(readdirSync(locked), []);
});

test('a missing parent folder under an unwritable one is reported as unwritable, not as a bare ENOENT', { skip: !isRoot && 'needs root for setpriv' }, () => {
  const target = join(dir, 'locked2', 'a', 'b', 'out.json');
  mkdirSync(join(dir, 'locked2'), { mode: 0o755 });
  const r = write(['--how', 'atomic', '--path', target], true);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /error: cannot create the folder .*locked2\/a.*permission denied \(EACCES\)|not writable \(EACCES\)/);
});

test('a full disk (ENOSPC, a 64 KB tmpfs) is one line naming the file, and the half-written file is removed', (t) => {
  const small = join(dir, 'small');
  mkdirSync(small);
  if (!mountTmpfs(small, 'size=64k')) { t.skip('cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)'); return; }
  try {
    for (const how of ['atomic', 'stream']) {
      const target = join(small, `big-${how}.bin`);
      const r = write(['--how', how, '--path', target, '--bytes', String(1 << 20)]);
      assert.equal(r.status, 1, r.stderr);
      assertOneLine(r.stderr, target, 'ENOSPC');
      assert.deepEqual(readdirSync(small), [], 'no temporary or partial file is left');
    }
    const ok = write(['--how', 'atomic', '--path', join(small, 'fits.bin'), '--bytes', '1000']);
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    spawnSync('umount', [small]);
  }
});

test('a read-only file system (EROFS) is named as such, also where mkdir of a missing folder reports ENOENT', (t) => {
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  if (!mountTmpfs(ro, 'size=64k,ro')) { t.skip('cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)'); return; }
  try {
    const file = join(ro, 'out.json');
    const r1 = write(['--how', 'atomic', '--path', file]);
    assert.equal(r1.status, 1, r1.stderr);
    assertOneLine(r1.stderr, file, 'EROFS');
    const deep = join(ro, 'run', 'best');
    const r2 = write(['--how', 'dir', '--path', deep]);
    assert.equal(r2.status, 1, r2.stderr);
    assert.match(r2.stderr, /error: .*run.*(read-only file system \(EROFS\)|on a read-only file system \(EROFS\))/);
    assert.doesNotMatch(r2.stderr, /ENOENT/);
  } finally {
    spawnSync('umount', [ro]);
  }
});

test('a path through a file (ENOTDIR) is one line', () => {
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  const target = join(file, 'out.json');
  const r = write(['--how', 'atomic', '--path', target]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /error: .*plain.*\((ENOTDIR|EEXIST)\)/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
