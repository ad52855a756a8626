// A command that prints the flag values it received as one JSON line: the probe of the Nx passthrough test
// (nx run cli-check:echo-flags --batch 4 must print "batch":4).
import { COMMON_FLAGS, defineCommand, pick, runCli } from '@biore/runtime';

const command = defineCommand({
  name: 'cli-check:echo-flags',
  summary: 'prints the flag values it received as one JSON line',
  examples: ['npx nx run cli-check:echo-flags --batch 4 --lr 1e-3'],
  flags: { ...pick(COMMON_FLAGS, 'batch', 'lr', 'out', 'resume', 'limit-train'), hidden: { ...COMMON_FLAGS.hidden, default: 256 } },
});

runCli(async () => {
  console.log(JSON.stringify(command.parse()));
});
