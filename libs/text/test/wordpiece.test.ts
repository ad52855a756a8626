import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordPieceTokenizer, BasicTokenizer, isBertPunctuation, readVocabFile, writeVocabFile, trainWordPieceVocab, SentencePieceTokenizer } from '../src/index.ts';


// Expected pieces: BERT's reference tokenizer (BasicTokenizer + WordpieceTokenizer of tokenization_bert.py,
// do_lower_case as stated) run on these sentences over the vocabularies below, then reviewed by hand.
export const UNCASED_VOCAB: string[] = ["[PAD]","[unused0]","[unused1]","[unused2]","[unused3]","[UNK]","[CLS]","[SEP]","[MASK]","the","of","and","in","to","a","is","was","were","by","with","for","on","that","as","at","from","or","not","be","are","this","we","which","gene","protein","##s","##ed","##ing","##ion","##ly","##al","##e","##es","expression","express","inhibit","inhibitor","##or","induced","induce","activation","activ","##ate","##ates","##ity","cell","cells","receptor","binding","bind","##in","##ine","##ide","##ase","kinase","anti","inflammatory","##inflammatory","il","tnf","ifn","nf","##κ","κ","##b","b","α","β","γ","δ","μ","##m","##g","mm","##l","p","##53","##21","1","2","3","4","5","6","7","8","9","0","10","##0","##1","##2","##3","##5","##6","##7","##8","##9","##4",".",",","-","(",")","[","]","/","%","+","=","<",">","@","$",":",";","'","\"","°","c","##c","##t","##h","##ht","ht","n","##n","acetyl","##cysteine","##acetyl","cysteine","dioxin","tetra","##chloro","##dibenzo","chloro","dibenzo","mg","kg","μg","μm","nm","##o","##i","##a","##r","tamoxifen","ibuprofen","s","##s","meniere","naive","sjogren","syndrome","disease","patients","treatment","chemical","@gene","chem","gene","disease","drug","##x","x","×","±","e1","e2","##1","dose","doses","significantly","reduced","increased","levels","mrna","serum","mice","rats","human","mouse","cancer","breast","tumor","growth","factor","phosphorylation","pathway","signaling","via","mediated","dependent","concentration","concentrations","effect","effects","interaction","interactions","between","no","observed","but","also","these","results","suggest","may","insulin","glucose","metabolism","liver","##ic","acid","##ase","aspirin","cyclooxygenase","cox","##2","prostaglandin","e","caffeine","adenosine","a2a","dopamine","d2","antagonist","agonist","warfarin","cyp","##2c9","2c9","metabolized","plasma","estrogen","er","h2o2","oxidative","stress","ca","##2","mg2","na","k","atp","##ase","lps","macrophages","nitric","oxide","no","synthase","inos","5","fold","two","hours","after","h","'"];

export const UNCASED_CASES: [string, string[]][] = [
  ["TNF-α induced the expression of IL-6 in human cells.", ["tnf","-","α","induced","the","expression","of","il","-","6","in","human","cells","."]],
  ["IFN-γ and NF-κB activation were observed in mice.", ["ifn","-","γ","and","nf","-","κ","##b","activation","were","observed","in","mice","."]],
  ["The anti-inflammatory effect of aspirin is mediated by COX-2 inhibition.", ["the","anti","-","inflammatory","effect","of","aspirin","is","mediated","by","cox","-","2","inhibit","##ion","."]],
  ["p53 binds to the p21 promoter.", ["p","##53","bind","##s","to","the","p","##21","p","##r","##o","##m","##o","##t","##e","##r","."]],
  ["2,3,7,8-Tetrachlorodibenzo-p-dioxin (TCDD) induces CYP1A1.", ["2",",","3",",","7",",","8","-","tetra","##chloro","##dibenzo","-","p","-","dioxin","(","[UNK]",")","induce","##s","cyp","##1","##a","##1","."]],
  ["N-acetylcysteine reduced H2O2-induced oxidative stress.", ["n","-","acetyl","##cysteine","reduced","h2o2","-","induced","oxidative","stress","."]],
  ["(S)-ibuprofen was not metabolized by CYP2C9.", ["(","s",")","-","ibuprofen","was","not","metabolized","by","cyp","##2c9","."]],
  ["Tamoxifen is an estrogen receptor (ER) antagonist in breast cancer.", ["tamoxifen","is","a","##n","estrogen","receptor","(","er",")","antagonist","in","breast","cancer","."]],
  ["Caffeine is an adenosine A2A receptor antagonist.", ["caffeine","is","a","##n","adenosine","a2a","receptor","antagonist","."]],
  ["Warfarin plasma concentrations increased 2-fold.", ["warfarin","plasma","concentrations","increased","2","-","fold","."]],
  ["Cells were treated with 10 μM tamoxifen for 24 h.", ["cells","were","[UNK]","with","10","μm","tamoxifen","for","2","##4","h","."]],
  ["Mice received 5 mg/kg aspirin at 37°C.", ["mice","[UNK]","5","mg","/","kg","aspirin","at","[UNK]","."]],
  ["Levels were 1.5 ± 0.2 ng/mL (p < 0.05).", ["levels","were","1",".","5","±","0",".","2","n","##g","/","[UNK]","(","p","<","0",".","0","##5",")","."]],
  ["A 1,000-fold increase was observed.", ["a","1",",","0","##0","##0","-","fold","in","##c","##r","##e","##ase","was","observed","."]],
  ["The IC50 was 3.2×10^-6 M.", ["the","[UNK]","was","3",".","[UNK]","[UNK]","-","6","[UNK]","."]],
  ["Patients with Ménière's disease were excluded.", ["patients","with","meniere","'","s","disease","were","[UNK]","."]],
  ["Naïve T cells express CD4.", ["naive","[UNK]","cells","express","[UNK]","."]],
  ["Sjögren's syndrome patients were included.", ["sjogren","'","s","syndrome","patients","were","[UNK]","."]],
  ["The café-au-lait spots were observed.", ["the","[UNK]","-","[UNK]","-","[UNK]","[UNK]","were","observed","."]],
  ["@GENE$ binds to @GENE$ in cells.", ["@","gene","$","bind","##s","to","@","gene","$","in","cells","."]],
  ["@CHEMICAL$ inhibits @GENE$ expression.", ["@","chemical","$","inhibit","##s","@","gene","$","expression","."]],
  ["<chem>Aspirin</chem> inhibits <gene>COX-2</gene>.", ["<","chem",">","aspirin","<","/","chem",">","inhibit","##s","<","gene",">","cox","-","2","<","/","gene",">","."]],
  ["[E1] dopamine [/E1] is a D2 [E2] agonist [/E2].", ["[","e1","]","dopamine","[","/","e1","]","is","a","d2","[","e2","]","agonist","[","/","e2","]","."]],
  ["<< insulin >> regulates [[ glucose ]] metabolism.", ["<","<","insulin",">",">","[UNK]","[","[","glucose","]","]","metabolism","."]],
  ["Insulin receptor phosphorylation was reduced.", ["insulin","receptor","phosphorylation","was","reduced","."]],
  ["Glucose-dependent insulin secretion in β-cells.", ["glucose","-","dependent","insulin","s","##e","##c","##r","##e","##t","##ion","in","β","-","cells","."]],
  ["LPS-induced iNOS expression in macrophages.", ["lps","-","induced","inos","expression","in","macrophages","."]],
  ["Nitric oxide (NO) synthase inhibition.", ["nitric","oxide","(","no",")","synthase","inhibit","##ion","."]],
  ["Na+/K+-ATPase activity was reduced.", ["na","+","/","k","+","-","atp","##ase","activ","##ity","was","reduced","."]],
  ["Ca2+ and Mg2+ concentrations were measured.", ["ca","##2","+","and","mg2","+","concentrations","were","[UNK]","."]],
  ["The δ-opioid receptor mediates analgesia.", ["the","δ","-","[UNK]","receptor","[UNK]","a","##n","##al","##g","##es","##i","##a","."]],
  ["μ-opioid receptor agonists reduce pain.", ["μ","-","[UNK]","receptor","agonist","##s","[UNK]","p","##a","##in","."]],
  ["Prostaglandin E2 levels increased significantly.", ["prostaglandin","e2","levels","increased","significantly","."]],
  ["Serum TNF-α levels were increased in patients.", ["serum","tnf","-","α","levels","were","increased","in","patients","."]],
  ["The drug–drug interaction between warfarin and aspirin.", ["the","drug","[UNK]","drug","interaction","between","warfarin","and","aspirin","."]],
  ["The drug—drug interactions were observed.", ["the","drug","[UNK]","drug","interactions","were","observed","."]],
  ["Inhibition of the p38 MAPK pathway.", ["inhibit","##ion","of","the","p","##3","##8","[UNK]","pathway","."]],
  ["Binding of ligand to receptor (Kd = 5 nM).", ["binding","of","[UNK]","to","receptor","(","[UNK]","=","5","nm",")","."]],
  ["HER2/neu-positive breast cancer.", ["h","##e","##r","##2","/","[UNK]","-","[UNK]","breast","cancer","."]],
  ["The 5-HT2A receptor antagonist was tested.", ["the","5","-","ht","##2","##a","receptor","antagonist","was","[UNK]","."]],
  ["“Anti-TNF” treatment was effective.", ["[UNK]","anti","-","tnf","[UNK]","treatment","was","[UNK]","."]],
  ["The 3′-UTR of the mRNA was analysed.", ["the","3","[UNK]","-","[UNK]","of","the","mrna","was","[UNK]","."]],
  ["Cells were incubated for two hours\tafter treatment.", ["cells","were","[UNK]","for","two","hours","after","treatment","."]],
  ["Doses of 10\u00a0mg were given.", ["doses","of","10","mg","were","[UNK]","."]],
  ["The in\u00advivo effects were observed.", ["the","[UNK]","effects","were","observed","."]],
  ["Zero\u200bwidth joiners are removed.", ["[UNK]","[UNK]","are","[UNK]","."]],
  ["Cancer 癌症 cells.", ["cancer","[UNK]","[UNK]","cells","."]],
  ["Expression of [MASK] was increased.", ["expression","of","[MASK]","was","increased","."]],
  ["[CLS] gene [SEP]", ["[CLS]","gene","[SEP]"]],
  ["Pneumonoultramicroscopicsilicovolcanoconiosisxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx is long.", ["[UNK]","is","[UNK]","."]],
  ["EGFR-TKI-resistant tumors grew.", ["[UNK]","-","[UNK]","-","[UNK]","tumor","##s","[UNK]","."]],
  ["IL-1β, IL-6 and TNF-α were measured.", ["il","-","[UNK]",",","il","-","6","and","tnf","-","α","were","[UNK]","."]],
  ["The K+ channel; the Cl− channel.", ["the","k","+","c","##h","##a","##n","##n","##e","##l",";","the","[UNK]","c","##h","##a","##n","##n","##e","##l","."]],
  ["Dose–response curves (n = 3) were fitted.", ["dose","[UNK]","[UNK]","[UNK]","(","n","=","3",")","were","[UNK]","."]],
];

export const CASED_VOCAB: string[] = ["[PAD]","[UNK]","[CLS]","[SEP]","[MASK]","TNF","IL","-","6","##6","α","β","the","The","gene","Gene","@","GENE","$",".","Ménière","'","s","é","M","##é","##n","##i","##è","##r","##e","p","##53","binds","to",",","a","café","caf","in","cells"];

export const CASED_CASES: [string, string[]][] = [
  ["TNF-α and IL-6 in the cells.", ["TNF","-","α","[UNK]","IL","-","6","in","the","cells","."]],
  ["@GENE$ binds to @GENE$.", ["@","GENE","$","binds","to","@","GENE","$","."]],
  ["Ménière's gene.", ["Ménière","'","s","gene","."]],
  ["The café, p53 and β.", ["The","café",",","p","##53","[UNK]","β","."]],
  ["Me\u0301nie\u0300re in cells.", ["[UNK]","in","cells","."]],
  ["the Gene binds a GENE.", ["the","Gene","binds","a","GENE","."]],
];
function vocabFile(tokens: string[]): string {
  const p = join(mkdtempSync(join(tmpdir(), 'wp-')), 'vocab.txt');
  writeFileSync(p, tokens.join('\n') + '\n');
  return p;
}

test(`an uncased vocabulary: ${UNCASED_CASES.length} biomedical sentences give the reference's pieces`, () => {
  assert.ok(UNCASED_CASES.length >= 50);
  const tok = WordPieceTokenizer.fromVocabFile(vocabFile(UNCASED_VOCAB));
  for (const [s, expected] of UNCASED_CASES) assert.deepEqual(tok.tokenize(s), expected, s);
});

test('a cased vocabulary (do_lower_case false) keeps case and accents and does not compose e + U+0301', () => {
  const tok = WordPieceTokenizer.fromVocabFile(vocabFile(CASED_VOCAB), { doLowerCase: false });
  for (const [s, expected] of CASED_CASES) assert.deepEqual(tok.tokenize(s), expected, s);
});

test("BERT's punctuation is ASCII 33-47, 58-64, 91-96, 123-126 plus Unicode P*, not symbols such as ± ° × −", () => {
  for (const ch of '$+<=>^`|~@#%&*-/:;[]{}\'"') assert.ok(isBertPunctuation(ch), ch);
  for (const ch of '–—‐“”′·¿') assert.ok(isBertPunctuation(ch), ch);
  for (const ch of '±°×−αµ²a1') assert.ok(!isBertPunctuation(ch), ch);
  assert.deepEqual(new BasicTokenizer().tokenize('37°C ±0.5'), ['37°c', '±0', '.', '5']);
  assert.deepEqual(new BasicTokenizer({ doLowerCase: true, stripAccents: false }).tokenize('Ménière'), ['ménière']);
});

test('entity markers may map to reserved [unused] tokens instead of the reference pieces', () => {
  const tok = WordPieceTokenizer.fromVocabFile(vocabFile(UNCASED_VOCAB), { markers: { '@GENE$': '[unused0]', '@CHEMICAL$': '[unused1]', '<chem>': '[unused2]', '</chem>': '[unused3]' } });
  assert.deepEqual(tok.tokenize('@CHEMICAL$ inhibits @GENE$ expression.'), ['[unused1]', 'inhibit', '##s', '[unused0]', 'expression', '.']);
  assert.deepEqual(tok.tokenize('<chem>Aspirin</chem> binds'), ['[unused2]', 'aspirin', '[unused3]', 'bind', '##s']);
  assert.throws(() => new WordPieceTokenizer(['[UNK]'], { markers: { '@GENE$': '[unused0]' } }), /not in the vocabulary/);
});

test('encode adds [CLS]/[SEP], cuts to the maximum length and records which word each piece came from', () => {
  const tok = WordPieceTokenizer.fromVocabFile(vocabFile(UNCASED_VOCAB));
  const e = tok.encode('p53 binds IL-6', 8);
  assert.deepEqual(e.pieces, ['[CLS]', 'p', '##53', 'bind', '##s', 'il', '-', '[SEP]']);
  assert.deepEqual(e.wordIndex, [-1, 0, 0, 1, 1, 2, 3, -1]);
  assert.deepEqual(e.ids, e.pieces.map((p) => UNCASED_VOCAB.lastIndexOf(p)), 'a token listed twice takes its later line, as the reference');
  const w = tok.encodeWords(['TNF-α', 'binds']);
  assert.deepEqual(w.pieces, ['[CLS]', 'tnf', '-', 'α', 'bind', '##s', '[SEP]']);
  assert.deepEqual(w.wordIndex, [-1, 0, 0, 0, 1, 1, -1]);
});

test('a vocabulary without [UNK] is a clear error naming the file', () => {
  const p = vocabFile(['[PAD]', 'a']);
  assert.throws(() => WordPieceTokenizer.fromVocabFile(p), { name: 'UserError', message: new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the vocabulary has no '\\[UNK\\]'`) });
  assert.throws(() => readVocabFile(join(tmpdir(), 'no-such-vocab.txt')), /vocabulary file not found/);
});

test('a WordPiece vocabulary trained on counts covers its corpus without [UNK] and round-trips through vocab.txt', () => {
  const text = 'the kinase phosphorylates the receptor . kinases phosphorylate receptors . the receptor binds the kinase inhibitor . inhibitors of kinases';
  const counts = new Map<string, number>();
  for (const w of new BasicTokenizer().tokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab = trainWordPieceVocab(counts, { vocabSize: 60, minFrequency: 1, minCharFrequency: 1, unused: 2 });
  assert.deepEqual(vocab.slice(0, 7), ['[PAD]', '[unused0]', '[unused1]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.ok(vocab.length <= 60 && new Set(vocab).size === vocab.length);
  assert.ok(vocab.includes('the') && vocab.includes('kinase'), 'frequent words become whole pieces');
  const p = join(mkdtempSync(join(tmpdir(), 'wp-train-')), 'vocab.txt');
  writeVocabFile(p, vocab);
  const tok = WordPieceTokenizer.fromVocabFile(p);
  const pieces = tok.tokenize(text);
  assert.ok(!pieces.includes('[UNK]'));
  assert.equal(pieces.join(' ').replace(/ ##/g, ''), new BasicTokenizer().tokenize(text).join(' '));
});

// A SentencePiece ModelProto written field by field (pieces; trainer_spec.model_type = UNIGRAM; identity normaliser).
function sentencePieceModel(pieces: [string, number, number][]): Buffer {
  const varint = (n: number) => { const o: number[] = []; while (n > 127) { o.push((n & 127) | 128); n >>>= 7; } o.push(n); return o; };
  const field = (no: number, wire: number, payload: number[]) => [...varint((no << 3) | wire), ...payload];
  const bytes = (no: number, b: number[]) => field(no, 2, [...varint(b.length), ...b]);
  const utf8 = (s: string) => Array.from(Buffer.from(s, 'utf8'));
  const f32 = (x: number) => { const b = Buffer.alloc(4); b.writeFloatLE(x); return Array.from(b); };
  const piece = ([p, score, type]: [string, number, number]) => bytes(1, [...bytes(1, utf8(p)), ...field(2, 5, f32(score)), ...field(3, 0, varint(type))]);
  return Buffer.from([...pieces.flatMap(piece), ...bytes(2, [...field(3, 0, varint(1)), ...field(4, 0, varint(pieces.length))]), ...bytes(3, bytes(1, utf8('identity')))]);
}

test('a SentencePiece .model loads offline through sentencepiece-js and encodes as BERT input', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spm-'));
  const model = join(dir, 'tiny.model');
  // types: 1 normal, 2 unknown, 3 control
  writeFileSync(model, sentencePieceModel([['<unk>', 0, 2], ['[CLS]', 0, 3], ['[SEP]', 0, 3], ['\u2581the', -1, 1], ['\u2581kin', -2, 1], ['ase', -2, 1],
    ['\u2581', -3, 1], ['t', -4, 1], ['h', -4, 1], ['e', -4, 1], ['k', -4, 1], ['i', -4, 1], ['n', -4, 1], ['a', -4, 1], ['s', -4, 1]]));
  const sp = await SentencePieceTokenizer.load(model, { doLowerCase: true });
  assert.deepEqual(sp.tokenize('The kinase'), ['\u2581the', '\u2581kin', 'ase']);
  const e = sp.encode('the kinase');
  assert.deepEqual(e.pieces, ['[CLS]', '\u2581the', '\u2581kin', 'ase', '[SEP]']);
  assert.deepEqual(e.ids, [1, 3, 4, 5, 2]);
  assert.deepEqual(e.wordIndex, [-1, 0, 1, 1, -1]);
  assert.equal(sp.decode([3, 4, 5]), 'the kinase');
  writeFileSync(join(dir, 'bad.model'), 'not a model');
  await assert.rejects(SentencePieceTokenizer.load(join(dir, 'bad.model')), { name: 'UserError', message: /not a SentencePiece model/ });
});
