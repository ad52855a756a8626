// Dumps ChemProt passages (title, abstract) with our two splits as JSONL (see ../README.md, 'Measured agreement').
import { readFileSync, writeFileSync } from 'node:fs';
import { splitSentences } from '../src/index.ts';
const files = ['chemprot_training/chemprot_training_abstracts.tsv', 'chemprot_development/chemprot_development_abstracts.tsv', 'chemprot_test_gs/chemprot_test_abstracts_gs.tsv'];
const out: string[] = [];
for (const f of files) for (const l of readFileSync((process.env.BIORE_DATA ?? '../shared/data') + '/chemprot/' + f, 'utf8').split('\n')) {
  if (!l.trim()) continue;
  const [pmid, title, abs] = l.split('\t');
  for (const [part, text] of [['t', title], ['a', abs]] as const) {
    const cut = (sp: { start: number; end: number }[]) => sp.map((s) => [s.start, s.end]);
    out.push(JSON.stringify({ id: `${pmid}.${part}`, text, ours: cut(splitSentences(text)), blue: cut(splitSentences(text, { compat: 'blue' })) }));
  }
}
writeFileSync(process.argv[2], out.join('\n') + '\n');
