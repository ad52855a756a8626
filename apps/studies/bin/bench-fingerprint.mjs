// Nx `runtime` input of studies:report: the Table 3 bench JSON it reads (artifacts/ is git-ignored, so Nx
// would not see a new bench otherwise).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const f = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'artifacts', 'bench', 'table3.json');
console.log(existsSync(f) ? createHash('sha256').update(readFileSync(f)).digest('hex') : 'no bench');
