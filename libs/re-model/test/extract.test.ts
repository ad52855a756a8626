import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Rng, findData, initBackend, saveArtifact, tensorsToHost } from '@biore/runtime';
import { chemProtAsPubTator, datasetInfo, loadChemProt, toPubTator, type RelationInstance } from '@biore/re-data';
import {
  createREModel, extract, extractPartialPath, extractStatePath, openEngine, predict, BEST,
  type InferenceEngine, type Prediction,
} from '../src/index.ts';
import { tinyConfig } from './fixtures/tiny.ts';

const here = dirname(fileURLToPath(import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'biore-extract-'));
const chemprotDir = findData('chemprot').path;
const CHEMPROT_LABELS = datasetInfo('chemprot').labels;
const testDocs = [...chemProtAsPubTator(chemprotDir, 'test')];
const key = (pmid: string, a?: string, b?: string) => `${pmid}.${a}.${b}`;

/** A fast engine whose probabilities are a fixed function of the instance; it records every batch it is given. */
function fakeEngine(labels = CHEMPROT_LABELS): InferenceEngine & { batches: RelationInstance[][] } {
  const batches: RelationInstance[][] = [];
  return {
    name: 'fake', labels, batches,
    async predict(instances) {
      batches.push([...instances]);
      return instances.map((inst): Prediction => {
        let h = 2166136261;
        for (const c of `${inst.tokens.join(' ')}|${inst.e1.start}|${inst.e2.start}`) h = Math.imul(h ^ c.codePointAt(0)!, 16777619) >>> 0;
        const raw = labels.map((_, k) => ((h >>> (k * 4)) & 15) + 1);
        const sum = raw.reduce((a, b) => a + b, 0);
        const probabilities = raw.map((x) => x / sum);
        return { label: labels[probabilities.indexOf(Math.max(...probabilities))], probabilities, words: inst.tokens };
      });
    },
    dispose() {},
  };
}

function writeInput(dir: string, docs: typeof testDocs, gzip = false, extra = ''): string {
  const text = docs.map(toPubTator).join('') + extra;
  const p = join(dir, gzip ? 'in.pubtator.gz' : 'in.pubtator');
  writeFileSync(p, gzip ? gzipSync(text) : text);
  return p;
}

const lines = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const quiet = { warn: () => {} };

test('extraction on ChemProt test abstracts gives every loader instance of those documents the prediction the model makes on the loader\'s instance', async () => {
  await initBackend();
  const config = { ...tinyConfig(), labels: CHEMPROT_LABELS };
  const model = await createREModel(config as any, new Rng(4));
  // through the engine registry, from a saved model folder, as the CLI opens it
  const dir = tmp();
  saveArtifact(join(dir, BEST), { config: model.config() as Record<string, unknown>, tensors: tensorsToHost(model.weights()) });
  const engine = await openEngine('tfjs', dir);
  const docs = testDocs.slice(0, 40);
  const input = writeInput(dir, docs);
  const out = join(dir, 'out.jsonl');
  const summary = await extract(engine, { input, out, batchSize: 16, bufferSize: 100, checkpointEvery: 7, ...quiet });
  assert.equal(summary.complete, true);
  assert.equal(summary.documents, 40);
  assert.ok(!existsSync(extractPartialPath(out)) && !existsSync(extractStatePath(out)));

  const pmids = new Set(docs.map((d) => d.pmid));
  const want = new Map<string, RelationInstance>();
  for (const i of loadChemProt(chemprotDir, 'test').instances) if (pmids.has(i.docId)) want.set(key(i.docId, i.e1.id, i.e2.id), i);
  const wantPreds = predict(model, [...want.values()], 64);
  const byKey = new Map([...want.keys()].map((k, n) => [k, wantPreds[n]]));
  const got = lines(out);
  assert.equal(got.length, summary.pairs);
  assert.equal(got.length, want.size);
  for (const g of got) {
    const k = key(g.pmid, g.e1.id, g.e2.id);
    const p = byKey.get(k);
    assert.ok(p, `extracted pair ${k} is not a loader instance`);
    assert.equal(g.label, p.label, k);
    CHEMPROT_LABELS.forEach((l, c) => assert.ok(Math.abs(g.probabilities[l] - p.probabilities[c]) < 2e-6, `${k} ${l}`));
    assert.equal(g.sentence.text.slice(g.e1.start - g.sentence.start, g.e1.end - g.sentence.start), g.e1.text);
  }
  // output in input order: documents as in the file
  const order = [...new Set(got.map((g) => g.pmid))];
  assert.deepEqual(order, docs.map((d) => d.pmid).filter((p) => order.includes(p)));
  await engine.dispose();
  model.dispose();
});

test('the engine gets length-sorted batches of at most --batch instances, drawn from a buffer of at most bufferSize', async () => {
  const dir = tmp();
  const engine = fakeEngine();
  const input = writeInput(dir, testDocs.slice(0, 30));
  const s = await extract(engine, { input, out: join(dir, 'o.jsonl'), batchSize: 8, bufferSize: 50, checkpointEvery: 1000, ...quiet });
  assert.equal(engine.batches.reduce((n, b) => n + b.length, 0), s.pairs);
  assert.ok(engine.batches.every((b) => b.length <= 8));
  // consecutive batches of one flush ascend in length; a flush holds < bufferSize + one document's pairs
  let flush: number[] = [];
  const flushes: number[][] = [];
  for (const b of engine.batches) {
    const lens = b.map((i) => i.tokens.length);
    assert.deepEqual(lens, [...lens].sort((x, y) => x - y));
    if (flush.length && lens[0] < flush[flush.length - 1]) { flushes.push(flush); flush = []; }
    flush.push(...lens);
  }
  flushes.push(flush);
  assert.ok(flushes.length > 1);
  const maxDocPairs = 400; // no ChemProt test abstract among the first 30 has more candidate pairs than this
  assert.ok(flushes.every((f) => f.length < 50 + maxDocPairs), `flush sizes ${flushes.map((f) => f.length)}`);
});

for (const gzip of [false, true]) {
  test(`an extraction stopped and resumed (${gzip ? 'gzip' : 'plain'} input) writes exactly the output of an unbroken one, even with lines written after its checkpoint`, async () => {
    const dir = tmp();
    const input = writeInput(dir, testDocs.slice(0, 45), gzip);
    const whole = join(dir, 'whole.jsonl');
    await extract(fakeEngine(), { input, out: whole, batchSize: 8, bufferSize: 64, checkpointEvery: 5, ...quiet });

    const out = join(dir, 'broken.jsonl');
    let docs = 0;
    const first = await extract(fakeEngine(), { input, out, batchSize: 8, bufferSize: 64, checkpointEvery: 5, stop: () => ++docs >= 17, ...quiet });
    assert.equal(first.complete, false);
    assert.equal(first.documents, 17);
    assert.ok(!existsSync(out) && existsSync(extractPartialPath(out)) && existsSync(extractStatePath(out)));
    const state = JSON.parse(readFileSync(extractStatePath(out), 'utf8'));
    assert.equal(state.documents, 17);
    assert.equal(readFileSync(extractPartialPath(out)).length, state.outBytes);
    // a killed run leaves lines past its last checkpoint (here more bytes than the rest of the output): resume must cut them off
    appendFileSync(extractPartialPath(out), '{"pmid":"half a line\n'.repeat(Math.ceil(readFileSync(whole).length / 20)));

    const second = await extract(fakeEngine(), { input, out, batchSize: 8, bufferSize: 64, checkpointEvery: 5, resume: true, ...quiet });
    assert.equal(second.complete, true);
    assert.deepEqual(second.resumedAt, { offset: state.offset, documents: 17 });
    assert.equal(second.documents, 45);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(whole, 'utf8'));
    assert.ok(!existsSync(extractStatePath(out)));
    // resuming a finished extraction does nothing
    assert.equal((await extract(fakeEngine(), { input, out, resume: true, ...quiet })).alreadyComplete, true);
  });
}

test('resume refuses a different input file and a partial output shorter than its checkpoint', async () => {
  const dir = tmp();
  const input = writeInput(dir, testDocs.slice(0, 12));
  const out = join(dir, 'o.jsonl');
  let n = 0;
  await extract(fakeEngine(), { input, out, checkpointEvery: 3, stop: () => ++n >= 6, ...quiet });
  const other = writeInput(mkdtempSync(join(tmpdir(), 'biore-extract-')), testDocs.slice(1, 13));
  await assert.rejects(extract(fakeEngine(), { input: other, out, resume: true, ...quiet }), /input differs from the one this extraction started on/);
  writeFileSync(extractPartialPath(out), '');
  await assert.rejects(extract(fakeEngine(), { input, out, resume: true, ...quiet }), /shorter than the \d+ bytes the state records/);
});

test('a malformed document gives one warning line with its PMID and the rest is extracted', async () => {
  const dir = tmp();
  const docs = testDocs.slice(0, 6);
  const bad = '999|t|A title.\n999|a|An abstract.\n999\t2\t40\tnot the text\tChemical\tT1\n\n';
  const input = writeInput(dir, docs.slice(0, 3), false, bad + docs.slice(3).map(toPubTator).join(''));
  const warnings: string[] = [];
  const s = await extract(fakeEngine(), { input, out: join(dir, 'o.jsonl'), warn: (l) => warnings.push(l) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^warning: PMID 999 \(input byte \d+\): annotation 2-40 "not the text" differs/);
  assert.equal(s.documents, 7);
  assert.equal(s.badDocuments, 1);
  // the same lines as an input without the bad document
  const clean = join(tmp(), 'clean.jsonl');
  await extract(fakeEngine(), { input: writeInput(tmp(), docs), out: clean, ...quiet });
  assert.equal(readFileSync(join(dir, 'o.jsonl'), 'utf8'), readFileSync(clean, 'utf8'));
  assert.ok(lines(clean).length > 0);
});

test('--limit-docs stops after that many documents; a model of no known dataset is refused', async () => {
  const dir = tmp();
  const input = writeInput(dir, testDocs.slice(0, 10));
  const s = await extract(fakeEngine(), { input, out: join(dir, 'o.jsonl'), limitDocs: 4, ...quiet });
  assert.equal(s.documents, 4);
  const first4 = new Set(testDocs.slice(0, 4).map((d) => d.pmid));
  const got = lines(join(dir, 'o.jsonl'));
  assert.ok(got.length > 0 && got.every((l) => first4.has(l.pmid)));
  await assert.rejects(extract(fakeEngine(['no', 'yes']), { input, out: join(dir, 'x.jsonl'), ...quiet }), /candidate entity pairs are unknown/);
});

test('SIGTERM stops an extraction at a checkpoint with exit 143; --resume then ends with the bytes of an unbroken run', async () => {
  await initBackend();
  const dir = tmp();
  const model = await createREModel({ ...tinyConfig(), labels: CHEMPROT_LABELS } as any, new Rng(9));
  saveArtifact(join(dir, 'model', BEST), { config: model.config() as Record<string, unknown>, tensors: tensorsToHost(model.weights()) });
  model.dispose();
  const input = writeInput(dir, testDocs.slice(0, 40));
  const child = join(here, 'fixtures', 'extract-child.ts');
  const run = (out: string, resume = '', onStart?: (p: ReturnType<typeof spawn>) => void) => new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, join(dir, 'model'), input, out, resume], { stdio: 'ignore', env: { ...process.env, BIORE_QUIET: '1' } });
    onStart?.(p);
    p.on('exit', (c) => resolve(c));
  });
  const out = join(dir, 'broken.jsonl');
  const code = await run(out, '', (p) => {
    const timer = setInterval(() => {
      try {
        if (JSON.parse(readFileSync(extractStatePath(out), 'utf8')).documents >= 6) { clearInterval(timer); p.kill('SIGTERM'); }
      } catch { /* not written yet */ }
    }, 20);
    p.on('exit', () => clearInterval(timer));
  });
  assert.equal(code, 143);
  const state = JSON.parse(readFileSync(extractStatePath(out), 'utf8'));
  assert.ok(state.documents >= 6 && state.documents < 40, `stopped after ${state.documents} documents`);
  assert.equal(readFileSync(extractPartialPath(out)).length, state.outBytes);
  assert.ok(!existsSync(out));
  assert.equal(await run(out, 'resume'), 0);
  const whole = join(dir, 'whole.jsonl');
  assert.equal(await run(whole), 0);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(whole, 'utf8'));
  assert.equal(lines(whole).length > 0, true);
});
