import json, sys
from nltk.tokenize.punkt import PunktTrainer, PunktSentenceTokenizer
docs = [json.loads(l) for l in open('/tmp/splitters/ours.jsonl')]
train_text = '\n\n'.join(d['text'] for d in docs) + '\n\n' + open(sys.argv[1] + '/text/pubmed/PubMedAbstract_1MB.txt').read()
tr = PunktTrainer(); tr.INCLUDE_ALL_COLLOCS = True; tr.train(train_text, finalize=True)
tok = PunktSentenceTokenizer(tr.get_params())
with open('/tmp/splitters/punkt.jsonl', 'w') as f:
    for d in docs:
        f.write(json.dumps({'id': d['id'], 'punkt': [list(s) for s in tok.span_tokenize(d['text'])]}) + '\n')
print(len(tr.get_params().abbrev_types), sorted(tr.get_params().abbrev_types)[:80])
