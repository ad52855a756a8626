import json, random, re, collections
ours = {d['id']: d for d in map(json.loads, open('/tmp/splitters/ours.jsonl'))}
oth = {d['id']: d for d in map(json.loads, open('/tmp/splitters/others.jsonl'))}
pk = {d['id']: d for d in map(json.loads, open('/tmp/splitters/punkt.jsonl'))}
S = {}
for i, d in ours.items():
    S[i] = {'ours': d['ours'], 'blue': d['blue'], 'sentencex': oth[i]['sentencex'], 'sbd': oth[i]['sbd'], 'punkt': pk[i]['punkt'], 'text': d['text']}
SP = re.compile(r'(?:^|[^A-Z])[A-Z]\.$')
def merge(text, spans, spacy=False):
    # BLUE's merge_sentences (create_chemprot_bert.py) on another splitter's sentences
    if not spans: return spans
    out = [list(spans[0])]
    for s, e in spans[1:]:
        last = text[out[-1][0]:out[-1][1]]
        lastword = last.split()[-1] if last.split() else ''
        if last[-1] in '.?!' and last[-4:] != 'i.v.' and text[s].isupper() and not (spacy and SP.search(lastword)):
            out.append([s, e])
        else:
            out[-1][1] = e
    return out
def agree(a, b):
    A = set(map(tuple, a)); B = set(map(tuple, b)); return len(A & B), len(A), len(B)
def report(name, ka, kb, fa=lambda t, x: x, fb=lambda t, x: x):
    inter = na = nb = 0
    for i, d in S.items():
        x, y, z = agree(fa(d['text'], d[ka]), fb(d['text'], d[kb]), )
        inter += x; na += y; nb += z
    print(f'{name:45s} {ka} {na} sentences, {kb} {nb}; identical {inter}: {100*inter/nb:.2f}% of {kb}, {100*inter/na:.2f}% of {ka}')
refs = ['sentencex', 'punkt', 'sbd']
print('-- true-boundary mode against independent splitters')
for r in refs: report('ours vs ' + r, 'ours', r)
print('-- independent splitters against each other')
report('sentencex vs punkt', 'sentencex', 'punkt'); report('sentencex vs sbd', 'sentencex', 'sbd'); report('punkt vs sbd', 'punkt', 'sbd')
print('-- old splitter (blue mode of HEAD) and new blue mode against splitter + BLUE merge_sentences')
for r in refs: report('blue vs ' + r + '+merge', 'blue', r, fb=merge)
for r in refs: report('blue vs ' + r + '+merge+spacyperiod', 'blue', r, fb=lambda t, x: merge(t, x, True))

# majority reference: a boundary (sentence end) counted if 2 of 3 refs have it
def ends(sp): return set(e for s, e in sp[:-1])
dis = []
tp = fp = fn = 0
for i, d in S.items():
    votes = collections.Counter(e for r in refs for e in ends(d[r]))
    maj = set(e for e, c in votes.items() if c >= 2)
    o = ends(d['ours'])
    tp += len(o & maj); fp += len(o - maj); fn += len(maj - o)
    for e in o - maj: dis.append((i, e, 'ours-only'))
    for e in maj - o: dis.append((i, e, 'majority-only'))
print(f'boundaries vs 2-of-3 majority: ours {tp+fp}, majority {tp+fn}, shared {tp}; P {100*tp/(tp+fp):.2f} R {100*tp/(tp+fn):.2f}')
random.seed(14)
sample = random.sample(dis, 60)
with open('/tmp/splitters/disagreements.txt', 'w') as f:
    for i, e, k in sorted(sample, key=lambda x: x[2]):
        t = S[i]['text']
        f.write(f'{k}\t{i}\t{e}\t{t[max(0,e-70):e]} || {t[e:e+50]}\n')
print(len(dis), 'disagreements; sample in /tmp/splitters/disagreements.txt')
