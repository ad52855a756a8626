// Crash-injection helpers for tests: run a command under strace, list its renames, and kill it with SIGKILL at
// the N-th rename (the syscall never happens), as a power cut or an OOM kill would at that instant.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RENAMES = 'rename,renameat,renameat2';

/** strace on PATH, installed from Debian's package when missing and apt can (CI runs as root); false otherwise. */
export function ensureStrace(): boolean {
  const has = () => spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
  if (has()) return true;
  if (process.getuid?.() !== 0) return false;
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
  spawnSync('apt-get', ['install', '-y', '-qq', 'strace'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return has();
}

/** Runs `cmd args` under strace; returns the run and the (source, target) of every rename it made, in order. */
export function traceRenames(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { run: SpawnSyncReturns<string>; renames: [string, string][] } {
  const log = join(mkdtempSync(join(tmpdir(), 'strace-')), 'renames.log');
  const run = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', `trace=${RENAMES}`, cmd, ...args], { encoding: 'utf8', cwd: o.cwd, env: o.env });
  const renames: [string, string][] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /rename(?:at2?)?\((?:[^,]+, )?"([^"]+)", (?:[^,]+, )?"([^"]+)"/.exec(line);
    if (m && !/= -1/.test(line)) renames.push([m[1], m[2]]);
  }
  return { run, renames };
}

/** Runs `cmd args` and SIGKILLs it at its `n`-th rename (1-based), before that rename takes effect. */
export function killAtRename(cmd: string, args: string[], n: number, o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${RENAMES}`, '-e', `inject=${RENAMES}:signal=KILL:when=${n}`, cmd, ...args], { encoding: 'utf8', cwd: o.cwd, env: o.env });
}
