// nx run corpus-pubmed:parse --file F.xml[.gz] — the citations of a PubmedArticleSet / MedlineCitationSet as JSON lines.
import { defineCommand, runCli } from '@biore/runtime';
import { parsePubmed } from '@biore/corpus';

const command = defineCommand({
  name: 'corpus-pubmed:parse',
  summary: 'the citations of a PubmedArticleSet / MedlineCitationSet file as JSON lines on stdout',
  examples: ['npx nx run corpus-pubmed:parse -- --file medline16n0902.xml.gz > citations.jsonl'],
  flags: { file: { type: 'string', placeholder: 'FILE', required: true, description: 'the .xml or .xml.gz file (may also be given bare)' } },
  positional: 'file',
});

runCli(async () => {
  const { file } = command.parse();
  console.error(`file: ${file}`);
  let n = 0;
  for await (const d of parsePubmed(file)) {
    n++;
    if (!process.stdout.write(JSON.stringify(d) + '\n')) await new Promise((r) => process.stdout.once('drain', r));
  }
  console.error(`${n} documents`);
});
