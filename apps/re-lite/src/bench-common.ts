// What re-lite's two benches share: the BiLSTM-attention head at the PyTorch anchor's shape (input 1124, T 64,
// batch 32: random GloVe vectors of 1124 dimensions over fixed-length sentences), the anchor itself (a PyTorch
// script run when the machine has torch), and a seeded sample of ChemProt test sentences.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@biore/runtime';
import { writeGloveArtifact } from '@biore/glove';
import { loadDataset, type RelationInstance } from '@biore/re-data';

/** The shape of the PyTorch measurement in the native-speed issue: input 1124, hidden 256 per direction, T 64, batch 32. */
export const ANCHOR = { input: 1124, steps: 64, batch: 32, hidden: 256 } as const;

/** n sentences of exactly ANCHOR.steps tokens drawn from a 500-word vocabulary, a chemical and a gene in each. */
export function anchorSentences(n: number): RelationInstance[] {
  const rng = new Rng(5);
  return Array.from({ length: n }, (_, i) => ({
    id: `s${i}`, docId: `d${i}`, label: 'false', tokens: Array.from({ length: ANCHOR.steps }, () => `w${rng.int(500)}`),
    e1: { type: 'CHEMICAL', start: 3, end: 4, text: 'x' }, e2: { type: 'GENE', start: 40, end: 41, text: 'y' },
  }) as RelationInstance);
}

/** Random GloVe vectors of ANCHOR.input dimensions for the anchor sentences' vocabulary, written to `dir`. */
export function writeAnchorGlove(dir: string): void {
  const rng = new Rng(1);
  const words = Array.from({ length: 500 }, (_, i) => `w${i}`);
  writeGloveArtifact(dir, { words, matrix: Float32Array.from({ length: words.length * ANCHOR.input }, () => rng.normal() * 0.4), dim: ANCHOR.input }, { lowercase: false, vectors: 'imported' });
}

export interface TorchRun { threads: number; openblasThreads: string; msPerSentence: number }
export type TorchAnchor =
  | { anchor: 'pytorch'; torch: string; python: string; msPerSentence: number; best: TorchRun; runs: TorchRun[] }
  | { anchor: 'pytorch'; unavailable: string };

/**
 * Runs apps/re-lite/bench/torch_anchor.py at the anchor's shape with the first interpreter that has torch:
 * BIORE_PYTHON, else `python3` on the PATH, else the system's /usr/bin/python3 (Debian's python3-torch). Torch's
 * own threads and OpenBLAS's threads multiply (2 × 2 on 2 cores runs 3–4× slower here), so it runs three thread
 * settings and the anchor is the fastest. Without torch it says why instead.
 */
export function torchAnchor(threads: number): TorchAnchor {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bench', 'torch_anchor.py');
  const pythons = process.env.BIORE_PYTHON ? [process.env.BIORE_PYTHON] : ['python3', '/usr/bin/python3'];
  const settings = [{ threads, openblas: 'default' }, { threads: 1, openblas: 'default' }, { threads, openblas: '1' }];
  let why = '';
  for (const python of pythons) {
    const runs: TorchRun[] = [];
    let version = '';
    for (const st of settings) {
      const env = { ...process.env, ...(st.openblas === 'default' ? {} : { OPENBLAS_NUM_THREADS: st.openblas }) };
      const r = spawnSync(python, [script, '--input', String(ANCHOR.input), '--hidden', String(ANCHOR.hidden), '--steps', String(ANCHOR.steps), '--batch', String(ANCHOR.batch), '--threads', String(st.threads)], { encoding: 'utf8', env });
      const line = r.stdout?.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (r.status !== 0 || !line) {
        why = r.error ? `${python}: ${r.error.message}` : `${python}: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`;
        break;
      }
      const j = JSON.parse(line) as { torch: string; msPerSentence: number };
      version = j.torch;
      runs.push({ threads: st.threads, openblasThreads: st.openblas, msPerSentence: j.msPerSentence });
    }
    if (runs.length === settings.length) {
      const best = runs.reduce((a, b) => (b.msPerSentence < a.msPerSentence ? b : a));
      return { anchor: 'pytorch', torch: version, python, msPerSentence: best.msPerSentence, best, runs };
    }
  }
  return { anchor: 'pytorch', unavailable: why };
}

/** A seeded sample of ChemProt test sentences: never seen by a model trained or warmed on train/dev. */
export function testSample(dataFlag: string | undefined, n: number): RelationInstance[] {
  return new Rng(13).shuffle(loadDataset('chemprot', { split: 'test', dataFlag }).slice()).slice(0, n);
}
