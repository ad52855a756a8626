import { UserError } from '@biore/runtime';

/**
 * Extracts the text of a PDF with pdf.js (Mozilla's maintained PDF engine, legacy build for Node): one line
 * per text line, a blank line between pages. A file pdf.js cannot open is a UserError naming it.
 */
export async function pdfToText(data: Uint8Array, name = '<pdf>'): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc;
  try {
    doc = await pdfjs.getDocument({ data: new Uint8Array(data), useSystemFonts: false, isEvalSupported: false, verbosity: 0 }).promise;
  } catch (e) {
    throw new UserError(`not a readable PDF (${(e as Error).message})`, { file: name });
  }
  try {
    const pages: string[] = [];
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      let line = '';
      const lines: string[] = [];
      for (const item of content.items as { str?: string; hasEOL?: boolean }[]) {
        if (typeof item.str !== 'string') continue;
        line += item.str;
        if (item.hasEOL) {
          lines.push(line);
          line = '';
        }
      }
      if (line) lines.push(line);
      pages.push(lines.join('\n'));
      page.cleanup();
    }
    return pages.join('\n\n');
  } finally {
    await doc.destroy();
  }
}

/**
 * Joins the hard-wrapped lines pdf.js returns into paragraphs (a paragraph ends at a blank line or at a line
 * ending a sentence that is markedly shorter than the page width), and undoes end-of-line hyphenation.
 */
export function unwrapPdfText(text: string): string {
  const lines = text.split('\n');
  const width = Math.max(40, ...lines.map((l) => l.length).sort((a, b) => b - a).slice(Math.floor(lines.length * 0.1), Math.floor(lines.length * 0.1) + 1));
  const out: string[] = [];
  let cur = '';
  for (const raw of lines) {
    const l = raw.trim();
    if (!l) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    }
    cur = !cur ? l : /[a-z]-$/.test(cur) ? cur.slice(0, -1) + l : `${cur} ${l}`;
    if (/[.?!:]$/.test(l) && l.length < width * 0.8) {
      out.push(cur);
      cur = '';
    }
  }
  if (cur) out.push(cur);
  return out.join('\n');
}
