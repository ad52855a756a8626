// `npm test`: every Nx project's `test` target, then one closing line summing them all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

rmSync('dist/test-results', { recursive: true, force: true });
// the whole workspace type-checks (strict) before any test runs; tsx itself does not check types
const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.base.json', '--noEmit'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.log('\ntests: 0 passed, 1 failed, 0 skipped (type-check failed)');
  process.exit(1);
}
const extra = process.argv.slice(2);
const r = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--parallel=1', '--outputStyle=stream', '--skipNxCache', ...extra], {
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
});
let passed = 0, failed = 0, skipped = 0;
const dir = 'dist/test-results';
if (existsSync(dir)) {
  for (const f of readdirSync(dir)) {
    const tap = readFileSync(join(dir, f), 'utf8');
    passed += Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
    failed += Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0);
    skipped += Number(/^# skipped (\d+)/m.exec(tap)?.[1] ?? 0);
  }
}
if (r.status !== 0 && failed === 0) failed = 1; // a project crashed before reporting
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
