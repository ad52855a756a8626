import { readFileSync, writeFileSync } from 'node:fs';
import { get_sentence_boundaries } from 'sentencex';
import sbd from 'sbd';
const trim = (t, s, e) => { while (s < e && /\s/.test(t[s])) s++; while (e > s && /\s/.test(t[e - 1])) e--; return [s, e]; };
const locate = (t, parts) => { let at = 0; const r = []; for (const p of parts) { const q = p.trim(); if (!q) continue; const k = t.indexOf(q, at); if (k < 0) throw new Error('lost ' + q); r.push([k, k + q.length]); at = k + q.length; } return r; };
const out = [];
for (const l of readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!l) continue;
  const d = JSON.parse(l);
  const sx = get_sentence_boundaries('en', d.text).map((b) => trim(d.text, b.start_index, b.end_index)).filter(([s, e]) => e > s);
  const sb = locate(d.text, sbd.sentences(d.text, { newline_boundaries: false, sanitize: false, preserve_whitespace: true }));
  out.push(JSON.stringify({ id: d.id, sentencex: sx, sbd: sb }));
}
writeFileSync(process.argv[3], out.join('\n') + '\n');
