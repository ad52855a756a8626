// nx run corpus-pubmed:bench — parsing throughput (documents/s) and peak memory on the MEDLINE file, parsed once
// and ten times over as one concatenated stream: if the parser streams, memory does not grow with the input.
// Seconds exclude the forced GCs that sample the live heap.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMMON_FLAGS, defineCommand, findData, runCli } from '@biore/runtime';
import { openText, parsePubmed } from '@biore/corpus';

const ROOTS = ['MedlineCitationSet', 'PubmedArticleSet'];

/**
 * The file's text `copies` times as ONE XML document: the prolog and root start tag of every copy but the first
 * and the root end tag of every copy but the last are dropped, streamed chunk by chunk (never the whole file).
 */
async function* repeated(file: string, copies: number): AsyncGenerator<string> {
  for (let c = 0; c < copies; c++) {
    let head = c > 0; // still looking for the root start tag to skip past
    let held = '';
    for await (const chunk of openText(file)) {
      let s = held + (chunk as string);
      held = '';
      if (head) {
        const m = new RegExp(`<(${ROOTS.join('|')})[^>]*>`).exec(s);
        if (!m) { held = s; continue; }
        s = s.slice(m.index + m[0].length);
        head = false;
      }
      // hold back a tail that may contain the root end tag
      const keep = Math.min(s.length, 64);
      held = s.slice(s.length - keep);
      yield s.slice(0, s.length - keep);
    }
    if (c < copies - 1) held = held.replace(new RegExp(`</(${ROOTS.join('|')})>\\s*$`), '');
    yield held;
  }
}

async function measure(file: string, copies: number): Promise<Record<string, number>> {
  let docs = 0;
  let chars = 0;
  let liveHeap = 0;
  let gcMs = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  const t0 = performance.now();
  for await (const d of parsePubmed(repeated(file, copies), file)) {
    docs++;
    chars += d.title.length + d.abstract.length;
    // the live heap (after a full GC) every 300 documents: what the parser really holds
    if (gc && docs % 300 === 0) {
      const g0 = performance.now();
      gc();
      gcMs += performance.now() - g0;
      liveHeap = Math.max(liveHeap, process.memoryUsage().heapUsed);
    }
  }
  const s = (performance.now() - t0 - gcMs) / 1000;
  return {
    copies, documents: docs, abstractChars: chars, seconds: Number(s.toFixed(3)), documentsPerSecond: Math.round(docs / s),
    peakRssMB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)), peakLiveHeapMB: Number((liveHeap / 2 ** 20).toFixed(1)),
  };
}

const command = defineCommand({
  name: 'corpus-pubmed:bench',
  summary: 'MEDLINE parsing throughput (documents/s) and peak memory, on the file once and N times over as one stream; prints JSON',
  examples: ['npx nx run corpus-pubmed:bench', 'npx nx run corpus-pubmed:bench -- --copies 3'],
  flags: {
    file: { type: 'string', placeholder: 'FILE', description: 'a PubmedArticleSet / MedlineCitationSet .xml or .xml.gz (text/pubmed/medline16n0902.xml.gz of the data root when absent)' },
    data: COMMON_FLAGS.data,
    copies: { type: 'int', min: 1, max: 1000, default: 10, description: 'how many copies of the file the second measurement streams' },
    child: { type: 'boolean', description: 'internal: measure once in this process and print one JSON line' },
  },
});

runCli(async () => {
  const f = command.parse();
  let file = f.file;
  if (!file) {
    const found = findData('text/pubmed/medline16n0902.xml.gz', f.data);
    if (!f.child) console.error(`data root: ${found.root.root} (${found.root.source})`);
    file = found.path;
  }
  if (f.child) {
    console.log(JSON.stringify(await measure(file, f.copies)));
    return;
  }
  // each measurement in a fresh process, so one run's peak cannot hide the other's
  const runs = [1, f.copies].map((copies) => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--file', file!, '--copies', String(copies)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  });
  const [one, many] = runs;
  console.log(JSON.stringify({
    file, runs,
    documentsRatio: Number((many.documents / one.documents).toFixed(2)),
    peakRssRatio: Number((many.peakRssMB / one.peakRssMB).toFixed(2)),
    peakLiveHeapRatio: Number((many.peakLiveHeapMB / one.peakLiveHeapMB).toFixed(2)),
    // flat: ten times the input, (almost) the same memory
    memoryFlat: many.peakLiveHeapMB < one.peakLiveHeapMB * 1.2 && many.peakRssMB < one.peakRssMB * 1.5,
  }, null, 2));
});
