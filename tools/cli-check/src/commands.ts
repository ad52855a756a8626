// The commands of the workspace, found from the apps' project.json files (never a hand list): every
// nx:run-commands target whose command is `tsx <script>` (a script behind several targets with subcommands: its `run` target).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Flag } from '@biore/runtime';

export const root = join(import.meta.dirname, '..', '..', '..');

export interface CommandTarget { project: string; target: string; script: string }

export function commandTargets(groups = ['apps']): CommandTarget[] {
  const out: CommandTarget[] = [];
  for (const g of groups) {
    for (const dir of readdirSync(join(root, g)).sort()) {
      const p = join(root, g, dir, 'project.json');
      if (!existsSync(p)) continue;
      const j = JSON.parse(readFileSync(p, 'utf8')) as { name: string; targets?: Record<string, { executor?: string; options?: { command?: string } }> };
      for (const [target, t] of Object.entries(j.targets ?? {})) {
        // `tsx <script>`, or `tsx <script> <subcommand …>` (one script serving several targets: checked once, as its `run` target)
        const m = t.executor === 'nx:run-commands' ? /^tsx\s+(\S+\.ts)(\s+\S.*)?$/.exec(t.options?.command?.trim() ?? '') : null;
        if (!m) continue;
        if (!m[2]) out.push({ project: j.name, target, script: m[1] });
        else if (target === 'run' && !out.some((o) => o.script === m[1])) out.push({ project: j.name, target, script: m[1] });
      }
    }
  }
  return out;
}

export interface Run { code: number | null; stdout: string; stderr: string; seconds: number }

/** Runs a script with node + tsx from the repository root, outside any Nx task (so no argv is read back from Nx). */
export function runScript(script: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, BIORE_QUIET: '1', ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith('NX_TASK_')) delete env[k];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, timeout: opts.timeoutMs ?? 180_000 });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    c.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

export interface SpecDump { name: string; summary: string; examples: string[]; script: string; flags: Record<string, Flag>; help: string }

/** A command's spec and help text, as `BIORE_CLI_SPEC=json <script> --help` prints them. */
export async function specOf(script: string): Promise<{ run: Run; spec?: SpecDump }> {
  const run = await runScript(script, ['--help'], { env: { BIORE_CLI_SPEC: 'json' } });
  try {
    return { run, spec: JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as SpecDump };
  } catch {
    return { run };
  }
}

/** At most `n` at a time (the machine is shared). */
export async function pool<T, R>(items: T[], n: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await f(items[i]); }
  }));
  return out;
}
