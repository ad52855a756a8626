// nx run corpus-chemrxiv:parse --file page.json | paper.pdf — an /items page as JSON lines of items, or a PDF's text.
import { readFileSync } from 'node:fs';
import { UserError, parseFlags, requireFile, runCli } from '@biore/runtime';
import { parseChemrxivPage, pdfToText, unwrapPdfText } from '@biore/corpus';

runCli(async () => {
  const { values: f, positionals } = parseFlags({ file: { type: 'string' } });
  const file = f.file ?? positionals[0];
  if (!file) throw new UserError('give --file page.json (a ChemRxiv /items response) or --file paper.pdf');
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
