// nx run corpus-pubmed:parse --file F.xml[.gz] — the citations of a PubmedArticleSet / MedlineCitationSet as JSON lines.
import { UserError, parseFlags, runCli } from '@biore/runtime';
import { parsePubmed } from '@biore/corpus';

runCli(async () => {
  const { values: f, positionals } = parseFlags({ file: { type: 'string' } });
  const file = f.file ?? positionals[0];
  if (!file) throw new UserError('give --file F.xml or F.xml.gz');
  console.error(`file: ${file}`);
  let n = 0;
  for await (const d of parsePubmed(file)) {
    n++;
    if (!process.stdout.write(JSON.stringify(d) + '\n')) await new Promise((r) => process.stdout.once('drain', r));
  }
  console.error(`${n} documents`);
});
