// nx run corpus-pmc:parse --file F.nxml — the article (or every article of a pmc-articleset) as JSON lines.
import { UserError, parseFlags, runCli } from '@biore/runtime';
import { parseJats } from '@biore/corpus';

runCli(async () => {
  const { values: f, positionals } = parseFlags({
    file: { type: 'string' }, figures: { type: 'boolean' }, tables: { type: 'boolean' }, references: { type: 'boolean' }, formulas: { type: 'string' },
  });
  const file = f.file ?? positionals[0];
  if (!file) throw new UserError('give --file F.nxml (or a pmc-articleset .xml / .xml.gz)');
  if (f.formulas !== undefined && f.formulas !== 'drop' && f.formulas !== 'placeholder') throw new UserError(`--formulas expects drop or placeholder, got '${f.formulas}'`);
  console.error(`file: ${file}`);
  let n = 0;
  for await (const a of parseJats(file, { figures: f.figures, tables: f.tables, references: f.references, formulas: f.formulas as 'drop' | 'placeholder' | undefined })) {
    n++;
    process.stdout.write(JSON.stringify(a) + '\n');
  }
  console.error(`${n} articles`);
});
