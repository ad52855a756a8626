import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, UserError } from '@biore/runtime';
import {
  RecordReader, buildGlove, countCooccurrences, countVocab, linesSource, loadGloveText, localTextSource,
  readGloveArtifact, shuffleCooccurrences, trainGlove, writeGloveText, type Vocab,
} from '../src/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'glove-test-'));

function readAll(path: string, vocab: Vocab): Map<string, number> {
  const r = new RecordReader(path);
  const m = new Map<string, number>();
  while (r.next()) {
    const k = `${vocab.words[r.i]} ${vocab.words[r.j]}`;
    assert.ok(!m.has(k), `pair ${k} written once`);
    m.set(k, r.x);
  }
  r.close();
  return m;
}

/** A reproducible corpus of Zipf-distributed words. */
function zipfCorpus(lines: number, words: number, seed: number): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const n = 3 + rng.int(15);
    const toks: string[] = [];
    for (let t = 0; t < n; t++) toks.push('w' + Math.floor(Math.pow(words, rng.next())));
    out.push(toks.join(' '));
  }
  return out;
}

test('co-occurrences are the symmetric 1/distance sums within the window, never across a line', async () => {
  const dir = tmp();
  try {
    const src = linesSource(['The cat sat on the mat', 'cat sat']);
    const vocab = await countVocab(src, { minCount: 1, maxVocab: 0, cased: false });
    assert.deepEqual(vocab.words, ['cat', 'sat', 'the', 'mat', 'on']);
    assert.deepEqual(vocab.counts, [2, 2, 2, 1, 1]);
    await countCooccurrences(src, vocab, join(dir, 'c.bin'), { window: 2, cased: false, memoryMB: 16 });
    // by hand, window 2: line 1 gives the–cat 1, cat–sat 1, the–sat ½ (d=2), sat–on 1, cat–on ½, on–the 1,
    // sat–the ½, the–mat 1, on–mat ½; line 2 adds cat–sat 1. Each pair is counted both ways.
    const expected: Record<string, number> = {
      'the cat': 1, 'cat sat': 2, 'the sat': 1, 'sat on': 1, 'cat on': 0.5, 'on the': 1, 'the mat': 1, 'on mat': 0.5,
    };
    const got = readAll(join(dir, 'c.bin'), vocab);
    assert.equal(got.size, 2 * Object.keys(expected).length);
    for (const [pair, x] of Object.entries(expected)) {
      const [a, b] = pair.split(' ');
      assert.equal(got.get(`${a} ${b}`), x, pair);
      assert.equal(got.get(`${b} ${a}`), x, `${pair} reversed`);
    }
    // records come sorted by (i, j), 1-based, as Stanford's cooccurrence.bin
    const r = new RecordReader(join(dir, 'c.bin'));
    let prev = -1;
    while (r.next()) { const k = r.i * 5 + r.j; assert.ok(k > prev); prev = k; }
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('words under min_count are dropped before windowing, so their neighbours close up', async () => {
  const dir = tmp();
  try {
    const src = linesSource(['a x b', 'a b', 'a y b']);
    const vocab = await countVocab(src, { minCount: 2, maxVocab: 0, cased: false });
    assert.deepEqual(vocab.words, ['a', 'b']);
    await countCooccurrences(src, vocab, join(dir, 'c.bin'), { window: 1, cased: false, memoryMB: 16 });
    const got = readAll(join(dir, 'c.bin'), vocab);
    assert.deepEqual(Object.fromEntries(got), { 'a b': 3, 'b a': 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tiny memory budget spills sorted runs to disk and the merge equals the in-memory count', async () => {
  const dir = tmp();
  try {
    const src = linesSource(zipfCorpus(400, 300, 7));
    const vocab = await countVocab(src, { minCount: 1, maxVocab: 0, cased: false });
    const big = await countCooccurrences(src, vocab, join(dir, 'big.bin'), { window: 5, cased: false, memoryMB: 64 });
    const small = await countCooccurrences(src, vocab, join(dir, 'small.bin'), { window: 5, cased: false, memoryMB: 0.05 });
    assert.equal(big.spills, 0);
    assert.ok(small.spills >= 3, `spilled ${small.spills} times`);
    assert.equal(small.records, big.records);
    const a = readAll(join(dir, 'big.bin'), vocab), b = readAll(join(dir, 'small.bin'), vocab);
    for (const [k, x] of a) assert.ok(Math.abs((b.get(k) ?? NaN) - x) < 1e-9, k);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shuffling permutes the records, is fixed by the seed, and works in chunks under a small budget', async () => {
  const dir = tmp();
  try {
    const src = linesSource(zipfCorpus(300, 200, 3));
    const vocab = await countVocab(src, { minCount: 1, maxVocab: 0, cased: false });
    await countCooccurrences(src, vocab, join(dir, 'c.bin'), { window: 4, cased: false, memoryMB: 16 });
    const one = shuffleCooccurrences(join(dir, 'c.bin'), join(dir, 's1.bin'), { seed: 1, memoryMB: 16 });
    const chunked = shuffleCooccurrences(join(dir, 'c.bin'), join(dir, 's2.bin'), { seed: 1, memoryMB: 0.02 });
    assert.equal(one.chunks, 1);
    assert.ok(chunked.chunks > 1);
    shuffleCooccurrences(join(dir, 'c.bin'), join(dir, 's3.bin'), { seed: 1, memoryMB: 16 });
    const sorted = readFileSync(join(dir, 'c.bin'));
    const key = (buf: Buffer) => { const ks: string[] = []; for (let o = 0; o < buf.length; o += 16) ks.push(buf.subarray(o, o + 16).toString('hex')); return ks; };
    const orig = key(sorted);
    for (const f of ['s1.bin', 's2.bin']) {
      const ks = key(readFileSync(join(dir, f)));
      assert.notDeepEqual(ks, orig, `${f} is not in sorted order`);
      assert.deepEqual([...ks].sort(), [...orig].sort(), `${f} holds the same records`);
    }
    assert.ok(readFileSync(join(dir, 's1.bin')).equals(readFileSync(join(dir, 's3.bin'))), 'same seed, same order');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function shuffledToy(dir: string) {
  const src = linesSource(zipfCorpus(300, 120, 11));
  const vocab = await countVocab(src, { minCount: 1, maxVocab: 0, cased: false });
  await countCooccurrences(src, vocab, join(dir, 'c.bin'), { window: 5, cased: false, memoryMB: 16 });
  shuffleCooccurrences(join(dir, 'c.bin'), join(dir, 's.bin'), { seed: 5, memoryMB: 16 });
  return vocab;
}

test('the weighted least-squares cost falls every iteration, in one thread and in two (Hogwild workers)', async () => {
  const dir = tmp();
  try {
    const vocab = await shuffledToy(dir);
    for (const threads of [1, 2]) {
      const { history } = await trainGlove(join(dir, 's.bin'), vocab.words.length, { dim: 10, iterations: 6, threads, seed: 1, xMax: 10, alpha: 0.75, eta: 0.05 });
      assert.equal(history.length, 6);
      for (let i = 1; i < history.length; i++) assert.ok(history[i].cost < history[i - 1].cost, `threads ${threads}: ${history.map((h) => h.cost).join(' ')}`);
      assert.ok(history[5].cost < 0.8 * history[0].cost);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training resumed from a checkpoint ends where an unbroken run does (one thread)', async () => {
  const dir = tmp();
  try {
    const vocab = await shuffledToy(dir);
    const o = { dim: 8, threads: 1, seed: 3, xMax: 10, alpha: 0.75, eta: 0.05, key: 'k' };
    const full = await trainGlove(join(dir, 's.bin'), vocab.words.length, { ...o, iterations: 4 });
    const ck = join(dir, 'ck');
    await trainGlove(join(dir, 's.bin'), vocab.words.length, { ...o, iterations: 2, checkpointDir: ck });
    const resumed = await trainGlove(join(dir, 's.bin'), vocab.words.length, { ...o, iterations: 4, checkpointDir: ck, resume: true });
    assert.deepEqual(resumed.history.map((h) => h.cost), full.history.map((h) => h.cost));
    assert.deepEqual(Array.from(resumed.params.rows), Array.from(full.params.rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('buildGlove writes the artifact, then skips every stage whose inputs and options did not change', async () => {
  const dir = tmp();
  try {
    const src = linesSource(zipfCorpus(200, 80, 2));
    const opts = { dim: 6, window: 3, minCount: 2, iterations: 3, threads: 1, quiet: true, memoryMB: 16 };
    const r1 = await buildGlove(src, dir, opts);
    assert.deepEqual(r1.skipped, []);
    for (const f of ['vocab.txt', 'cooccur.bin', 'cooccur.shuf.bin', 'vectors.txt', 'vectors.bin', 'words.txt', 'config.json', 'metrics.jsonl']) assert.ok(existsSync(join(dir, f)), f);
    const a = readGloveArtifact(dir);
    assert.equal(a.dim, 6);
    assert.equal(a.config.lowercase, true);
    assert.equal(a.words.length, r1.vocabSize);
    const txt = await loadGloveText(join(dir, 'vectors.txt'));
    assert.deepEqual(txt.words, a.words);
    for (let k = 0; k < a.matrix.length; k++) assert.ok(Math.abs(txt.matrix[k] - a.matrix[k]) < 1e-6);
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(metrics.filter((m) => m.stage === 'train').length, 3);
    const r2 = await buildGlove(src, dir, opts);
    assert.deepEqual(r2.skipped, ['vocab', 'cooccur', 'shuffle', 'train']);
    const r3 = await buildGlove(src, dir, { ...opts, window: 4 });
    assert.deepEqual(r3.skipped, ['vocab']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Stanford .txt round-trips through writeGloveText and loadGloveText; a word2vec header is tolerated', async () => {
  const dir = tmp();
  try {
    const words = ['the', ',', 'IL-2', 'naïve'];
    const matrix = new Float32Array([0.1, -0.2, 0.3, 1.5, 0, -1e-3, 2.25, 3.5, -4, 0.125, 0.5, 0.75]);
    writeGloveText(join(dir, 'v.txt'), { words, matrix, dim: 3 });
    const back = await loadGloveText(join(dir, 'v.txt'));
    assert.deepEqual(back.words, words);
    assert.equal(back.dim, 3);
    for (let k = 0; k < matrix.length; k++) assert.ok(Math.abs(back.matrix[k] - matrix[k]) < 1e-6);
    writeFileSync(join(dir, 'w2v.txt'), '2 3\nthe 0.1 0.2 0.3\nof 0.4 0.5 0.6\n');
    const w2v = await loadGloveText(join(dir, 'w2v.txt'));
    assert.deepEqual(w2v.words, ['the', 'of']);
    assert.deepEqual(Array.from(w2v.matrix), Array.from(new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated file, a dimension mismatch and a non-numeric value are UserErrors naming file and line', async () => {
  const dir = tmp();
  try {
    const cases: [string, string, RegExp][] = [
      ['trunc.txt', 'the 0.1 0.2 0.3 0.4\nof 0.5 0.6 0.7 0.8\nand 0.9 0.1', /trunc\.txt, record line 3: truncated file: the last line has 2 values, expected 4/],
      ['dims.txt', 'the 0.1 0.2 0.3 0.4\nof 0.5 0.6 0.7\nand 0.9 0.1 0.2 0.3\n', /dims\.txt, record line 2: dimension mismatch: 3 values, expected 4/],
      ['nan.txt', 'the 0.1 0.2 0.3\nof 0.5 zero 0.7\n', /nan\.txt, record line 2: value 2 of 'of' is not a number: 'zero'/],
    ];
    for (const [name, text, re] of cases) {
      writeFileSync(join(dir, name), text);
      await assert.rejects(loadGloveText(join(dir, name)), (e: unknown) => e instanceof UserError && re.test(e.message), name);
    }
    await assert.rejects(loadGloveText(join(dir, 'absent.txt')), UserError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the local text source reads PubMed, MEDLINE, ChemRxiv and the text (not the markup) of PMC articles', async () => {
  const src = localTextSource();
  assert.ok(src.files.some((f) => f.endsWith('.nxml')) && src.files.some((f) => f.endsWith('.xml.gz')) && src.files.some((f) => f.endsWith('.txt')));
  let lines = 0, markup = 0;
  for await (const line of src.lines()) {
    lines++;
    if (/<\/?(p|xref|italic|sec|title|AbstractText)\b/.test(line)) markup++;
  }
  assert.ok(lines > 5000, `${lines} lines`);
  assert.equal(markup, 0);
});
