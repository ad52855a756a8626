// The papers' own figures, printed beside ours in the report (percentages as the papers give them).

export interface PRF { p: number | null; r: number | null; f: number | null }

/** Hiai et al., Table 2: precision, recall and F1 of the positive classes. */
export const HIAI_TABLE2: Record<string, Record<'gad' | 'chemprot', PRF>> = {
  'E-SVM': { gad: { p: 79.21, r: 89.25, f: 83.93 }, chemprot: { p: null, r: null, f: null } },
  SPINN: { gad: { p: null, r: null, f: null }, chemprot: { p: 74.85, r: 56.06, f: 64.11 } },
  SciBERT: { gad: { p: 85.54, r: 80.61, f: 82.83 }, chemprot: { p: 79.73, r: 70.85, f: 75.03 } },
  BioBERT: { gad: { p: 76.43, r: 87.65, f: 81.61 }, chemprot: { p: 77.02, r: 75.9, f: 76.46 } },
  'Baseline (GloVe)': { gad: { p: 77.31, r: 80.01, f: 78.59 }, chemprot: { p: 58.13, r: 57.43, f: 57.78 } },
  'Proposed1 (GloVe+CSE)': { gad: { p: 78.74, r: 87.43, f: 82.83 }, chemprot: { p: 67.41, r: 58.79, f: 62.81 } },
  'Proposed2 (GloVe+ELMo)': { gad: { p: 83.1, r: 85.43, f: 84.16 }, chemprot: { p: 76.49, r: 65.82, f: 70.76 } },
  'Proposed3 (GloVe+CSE+ELMo)': { gad: { p: 82.64, r: 86.36, f: 84.38 }, chemprot: { p: 76.05, r: 66.17, f: 70.77 } },
};

/** Hiai et al., Table 3: extraction time for the ChemProt test set (V100 GPU). */
export const HIAI_TABLE3: { method: string; seconds: number; msPerSample: number }[] = [
  { method: 'Proposed1 (GloVe+CSE)', seconds: 86.53, msPerSample: 5.99 },
  { method: 'Proposed2 (GloVe+ELMo)', seconds: 212.51, msPerSample: 14.71 },
  { method: 'Proposed3 (GloVe+CSE+ELMo)', seconds: 239.06, msPerSample: 16.55 },
  { method: 'SciBERT', seconds: 537.32, msPerSample: 37.2 },
  { method: 'BioBERT', seconds: 680.39, msPerSample: 47.11 },
];
/** Hiai et al. §5.3: peak training memory on the GPU (approximate, in the text). */
export const HIAI_MEMORY = { proposedGB: 2, bioBertGB: 12 };

/** Hiai et al., Table 4: ChemProt F1 of Proposed3 with CSE pre-trained on each corpus. */
export const HIAI_TABLE4: Record<string, number> = {
  pubmed: 69.57, 'pubmed+chemrxiv': 69.31, 'pubmed+pmc': 70.19, 'pubmed+pmc+chemrxiv': 70.77,
};

/** Hiai et al., Table 5: Proposed3 with indicator tags vs entity replacement. */
export const HIAI_TABLE5: Record<'gad' | 'chemprot', { tags: PRF; replacement: PRF }> = {
  gad: { tags: { p: 82.64, r: 86.36, f: 84.38 }, replacement: { p: 81.88, r: 85.26, f: 83.46 } },
  chemprot: { tags: { p: 76.05, r: 66.17, f: 70.77 }, replacement: { p: 75.38, r: 63.96, f: 69.2 } },
};

export type SuTask = 'aimed' | 'ddi' | 'chemprot';

/** Su & Vijay-Shanker, Table III. */
export const SU_TABLE3: { model: string; head: string | null; scores: Record<SuTask, PRF> }[] = [
  { model: 'SOTA', head: null, scores: { aimed: { p: 79.0, r: 76.8, f: 77.6 }, ddi: { p: 79.3, r: 80.5, f: 79.9 }, chemprot: { p: 77.0, r: 75.9, f: 76.5 } } },
  { model: 'BioBERT', head: 'cls', scores: { aimed: { p: 79.0, r: 83.3, f: 81.0 }, ddi: { p: 77.4, r: 79.4, f: 78.4 }, chemprot: { p: 74.6, r: 76.8, f: 75.7 } } },
  { model: 'BioBERT+LSTM_LL', head: 'cls+lstm_ll', scores: { aimed: { p: 80.2, r: 84.0, f: 82.0 }, ddi: { p: 79.4, r: 78.0, f: 78.7 }, chemprot: { p: 75.7, r: 77.4, f: 76.5 } } },
  { model: 'BioBERT+Att_LL', head: 'cls+att_ll', scores: { aimed: { p: 80.7, r: 84.4, f: 82.5 }, ddi: { p: 81.3, r: 80.1, f: 80.7 }, chemprot: { p: 76.5, r: 77.1, f: 76.8 } } },
];

/** Su & Vijay-Shanker, Table IV. */
export const SU_TABLE4: { model: string; head: string; scores: Record<SuTask, PRF> }[] = [
  { model: 'BioBERT', head: 'cls', scores: { aimed: { p: 79.0, r: 83.3, f: 81.0 }, ddi: { p: 77.4, r: 79.4, f: 78.4 }, chemprot: { p: 74.6, r: 76.8, f: 75.7 } } },
  { model: 'BioBERT+Att_LL', head: 'cls+att_ll', scores: { aimed: { p: 80.7, r: 84.4, f: 82.5 }, ddi: { p: 81.3, r: 80.1, f: 80.7 }, chemprot: { p: 76.5, r: 77.1, f: 76.8 } } },
  { model: 'BioBERT+LSTM_LL*', head: 'lstm_ll', scores: { aimed: { p: 79.6, r: 82.0, f: 80.8 }, ddi: { p: 79.7, r: 76.5, f: 78.1 }, chemprot: { p: 75.7, r: 74.5, f: 75.1 } } },
  { model: 'BioBERT+Att_LL*', head: 'att_ll', scores: { aimed: { p: 82.3, r: 83.5, f: 82.8 }, ddi: { p: 79.7, r: 77.6, f: 78.6 }, chemprot: { p: 76.4, r: 74.5, f: 75.4 } } },
  { model: 'BioBERT+LSTM_CLS', head: 'lstm_cls', scores: { aimed: { p: 79.0, r: 82.3, f: 80.6 }, ddi: { p: 77.6, r: 80.4, f: 79.0 }, chemprot: { p: 73.8, r: 76.4, f: 75.1 } } },
  { model: 'BioBERT+Att_CLS', head: 'att_cls', scores: { aimed: { p: 79.9, r: 83.6, f: 81.7 }, ddi: { p: 78.6, r: 77.8, f: 78.2 }, chemprot: { p: 73.2, r: 75.3, f: 74.2 } } },
];

/** Su & Vijay-Shanker, Table V: the top attention-weighted word stems (the paper's spelling, completions in parentheses). */
export const SU_TABLE5: Record<SuTask, string> = {
  aimed: 'activ(ate), complex, associ(ate), interact, human protein, bind, domain, specif(y), receptor',
  ddi: 'concomitant(i), combin(e), concomit(ant), increas(e), use concurr(ent), decreas(e), inhibit, receiv(e), administ(er)',
  chemprot: 'phosphoryl(ate), attenu(ate), stimul(ate), deriv(e), regul(ate) novel, metabol(ize), reduc(e), induc(e), inhibit',
};

/** Su & Vijay-Shanker, Fig. 4: the trigger words compared in positive vs negative instances, as Porter stems. */
export const SU_FIG4_TRIGGERS: Record<SuTask, { word: string; stem: string }[]> = {
  aimed: [{ word: 'associate', stem: 'associ' }, { word: 'interact', stem: 'interact' }],
  ddi: [{ word: 'decrease', stem: 'decreas' }, { word: 'inhibit', stem: 'inhibit' }],
  chemprot: [{ word: 'stimulate', stem: 'stimul' }, { word: 'regulate', stem: 'regul' }],
};
