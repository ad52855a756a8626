// nx run corpus-chemrxiv:parse --file page.json | paper.pdf — an /items page as JSON lines of items, or a PDF's text.
import { readFileSync } from 'node:fs';
import { UserError, defineCommand, requireFile, runCli } from '@biore/runtime';
import { parseChemrxivPage, pdfToText, unwrapPdfText } from '@biore/corpus';

const command = defineCommand({
  name: 'corpus-chemrxiv:parse',
  summary: 'a ChemRxiv /items page as JSON lines of items, or the text of a PDF, on stdout',
  examples: ['npx nx run corpus-chemrxiv:parse -- --file page.json > items.jsonl', 'npx nx run corpus-chemrxiv:parse -- --file paper.pdf > paper.txt'],
  flags: { file: { type: 'string', placeholder: 'FILE', required: true, description: 'a /items response (.json) or a preprint PDF (.pdf); may also be given bare' } },
  positional: 'file',
});

runCli(async () => {
  const { file } = command.parse();
  const data = readFileSync(requireFile(file));
  console.error(`file: ${file}`);
  if (file.toLowerCase().endsWith('.pdf')) {
    process.stdout.write(unwrapPdfText(await pdfToText(data, file)) + '\n');
    return;
  }
  const page = await parseChemrxivPage(data, file).catch((e: Error) => { throw new UserError(e.message, { file }); });
  for (const it of page.items) process.stdout.write(JSON.stringify(it) + '\n');
  for (const m of page.malformed) console.error(`skipped malformed record ${m}`);
  console.error(`${page.items.length} items of ${page.totalCount}`);
});
