/** A one-page PDF with one line of text, written by hand (objects, xref offsets, trailer). */
export function minimalPdf(line: string): Buffer {
  const stream = `BT /F1 12 Tf 72 720 Td (${line}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}


import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findData } from '@biore/runtime';
import type { FaultServer } from '@biore/fetch';

export const EFETCH_FIXTURES = ['pubmed1.xml', 'pubmed2.xml', 'pubmed4.xml', 'pubmed5.xml', 'pubmed-29768149.xml'];
/** PubmedArticle records in each fixture above, in order. */
export const EFETCH_RECORDS = [2, 2, 1, 1, 1];

/**
 * E-utilities on the fault server: ESearch answers with the real history-server reply (esearch2.xml), EFetch
 * with the real PubmedArticleSet fixtures, the one for retstart r being fixture r % 5, sent gzip-encoded;
 * db=pmc gets the real pmc-articleset.
 */
export function routeEutils(srv: FaultServer): void {
  const dir = findData('fixtures/eutils').path;
  const esearch = readFileSync(join(dir, 'esearch2.xml'));
  const efetch = EFETCH_FIXTURES.map((f) => readFileSync(join(dir, f)));
  const pmc = readFileSync(join(dir, 'efetch_pmc.xml'));
  srv.route('/entrez/eutils/esearch.fcgi', () => ({ body: esearch, headers: { 'content-type': 'text/xml' } }));
  srv.route('/entrez/eutils/efetch.fcgi', (url) => {
    if (url.searchParams.get('db') === 'pmc') return { body: pmc, gzip: true, headers: { 'content-type': 'text/xml' } };
    const start = Number(url.searchParams.get('retstart') ?? 0);
    return { body: efetch[start % efetch.length], gzip: true, headers: { 'content-type': 'text/xml' } };
  });
}
