// A command that prints the flag values it received as one JSON line: the probe of the Nx passthrough test
// (nx run cli-check:echo-flags --batch 4 must print "batch":4).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMMON_FLAGS, defineCommand, pick, runCli } from '@biore/runtime';

const command = defineCommand({
  name: 'cli-check:echo-flags',
  summary: 'prints the flag values it received as one JSON line',
  examples: ['npx nx run cli-check:echo-flags --batch 4 --lr 1e-3'],
  flags: {
    ...pick(COMMON_FLAGS, 'batch', 'lr', 'out', 'resume', 'limit-train'), hidden: { ...COMMON_FLAGS.hidden, default: 256 },
    'spawn-child': { type: 'boolean', default: false, description: 'also run this script as a child process with --hidden 7 and print what the child received' },
  },
});

runCli(async () => {
  const f = command.parse();
  console.log(JSON.stringify(f));
  if (f['spawn-child']) {
    // a child of the Nx task runs the same script with arguments of its own (as re-lite:bench-table3 does)
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--hidden', '7'], { encoding: 'utf8' });
    const child = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(JSON.stringify({ child }));
  }
});
