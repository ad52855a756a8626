// nx run corpus-pmc:parse --file F.nxml — the article (or every article of a pmc-articleset) as JSON lines.
import { defineCommand, runCli } from '@biore/runtime';
import { parseJats } from '@biore/corpus';

const command = defineCommand({
  name: 'corpus-pmc:parse',
  summary: 'the article of a JATS file (or every article of a pmc-articleset) as JSON lines on stdout',
  examples: ['npx nx run corpus-pmc:parse -- --file PMC1234567.nxml --formulas placeholder > articles.jsonl'],
  flags: {
    file: { type: 'string', placeholder: 'FILE', required: true, description: 'a .nxml file, or a pmc-articleset .xml / .xml.gz (may also be given bare)' },
    figures: { type: 'boolean', description: 'keep figure captions' },
    tables: { type: 'boolean', description: 'keep table captions and cells' },
    references: { type: 'boolean', description: 'keep the reference list' },
    formulas: { type: 'string', choices: ['drop', 'placeholder'], description: 'what becomes of a formula: dropped, or a placeholder word (the parser\'s default when absent)' },
  },
  positional: 'file',
});

runCli(async () => {
  const f = command.parse();
  const file = f.file;
  console.error(`file: ${file}`);
  let n = 0;
  for await (const a of parseJats(file, { figures: f.figures, tables: f.tables, references: f.references, formulas: f.formulas })) {
    n++;
    process.stdout.write(JSON.stringify(a) + '\n');
  }
  console.error(`${n} articles`);
});
