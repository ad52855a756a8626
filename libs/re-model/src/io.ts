import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Rng, UserError, loadArtifact, openAtomicWriter } from '@biore/runtime';
import { tokenize } from '@biore/text';
import type { EntitySpan, EntityType, RelationInstance } from '@biore/re-data';
import { assignWeights, createREModel, type REModel, type REModelConfig } from './contract.ts';
import { BEST } from './trainer.ts';
import { predict } from './evaluate.ts';
import type { InferenceEngine } from './engine.ts';

/** Config keys whose string values name member artifacts (embedder folders and files, the BERT folder). */
const MEMBER_KEYS = new Set(['path', 'bert', 'forward', 'backward', 'options', 'weights']);

/** Applies `f` to every member path in a model config or spec. */
export function mapMembers(v: unknown, f: (path: string) => string, key = ''): unknown {
  if (typeof v === 'string') return MEMBER_KEYS.has(key) ? f(v) : v;
  if (Array.isArray(v)) return v.map((x) => mapMembers(x, f));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapMembers(x, f, k)]));
  return v;
}

/**
 * A model config that still loads after its folder is moved or copied with the artifacts around it: member paths
 * become relative to the model folder (`../../glove`); with `bundle`, the members are first copied into
 * `membersDir` (beside the model), so the run folder stands alone.
 */
export function portableConfig<C>(config: C, modelDir: string, o: { bundle?: boolean; membersDir?: string } = {}): C {
  const copied = new Map<string, string>();
  return mapMembers(config, (p) => {
    let abs = isAbsolute(p) ? p : p.startsWith('./') || p.startsWith('../') ? resolve(modelDir, p) : resolve(p);
    if (!existsSync(abs)) return p;
    if (o.bundle && o.membersDir) {
      if (!copied.has(abs)) {
        const dest = join(o.membersDir, `${basename(abs)}-${createHash('sha256').update(abs).digest('hex').slice(0, 8)}`);
        if (!existsSync(dest)) { mkdirSync(o.membersDir, { recursive: true }); cpSync(abs, dest, { recursive: true, dereference: true }); }
        copied.set(abs, dest);
      }
      abs = copied.get(abs)!;
    }
    const rel = relative(modelDir, abs);
    return rel.startsWith('..') ? rel : `./${rel}`;
  }) as C;
}

/** The inverse of portableConfig: relative member paths resolved against the model folder. */
export function resolveMemberPaths<C>(config: C, modelDir: string): C {
  return mapMembers(config, (p) => (p.startsWith('./') || p.startsWith('../') ? resolve(modelDir, p) : p)) as C;
}

/** Loads a trained RE model from a run folder (its `best/`) or from an artifact folder itself, from any working directory. */
export async function loadREModel(dir: string): Promise<REModel> {
  const art = existsSync(join(dir, BEST, 'config.json')) ? join(dir, BEST) : dir;
  const { config, tensors } = loadArtifact(art);
  const model = await createREModel(resolveMemberPaths(config as unknown as REModelConfig, resolve(art)), new Rng(0));
  assignWeights(model, tensors, join(art, 'model.safetensors'));
  return model;
}

const TAGS: Record<string, EntityType> = { chem: 'CHEMICAL', gene: 'GENE', drug: 'DRUG', prot: 'PROTEIN', dise: 'DISEASE' };

interface CharSpan { start: number; end: number; type: EntityType }

/** Removes `<chem>…</chem>`-style markers, returning the plain text and the marked character spans. */
export function parseMarkedText(marked: string, source: string, record: number): { text: string; spans: CharSpan[] } {
  const spans: CharSpan[] = [];
  let text = '';
  const re = /<(\/?)(chem|gene|drug|prot|dise)>/g;
  let last = 0, open: { tag: string; start: number } | undefined;
  for (let m; (m = re.exec(marked)); ) {
    text += marked.slice(last, m.index);
    last = m.index + m[0].length;
    if (!m[1]) {
      if (open) throw new UserError(`nested entity marker <${m[2]}> inside <${open.tag}>`, { file: source, record });
      open = { tag: m[2], start: text.length };
    } else {
      if (!open || open.tag !== m[2]) throw new UserError(`closing marker </${m[2]}> without its opening one`, { file: source, record });
      spans.push({ start: open.start, end: text.length, type: TAGS[m[2]] });
      open = undefined;
    }
  }
  if (open) throw new UserError(`marker <${open.tag}> is never closed`, { file: source, record });
  text += marked.slice(last);
  return { text, spans };
}

/**
 * Turns one `predict` input record into a relation instance. Either
 * `{"text": "...", "e1": {"start", "end", "type"}, "e2": {...}}` with character offsets, or
 * `{"text": "... <chem>X</chem> ... <gene>Y</gene> ..."}` with exactly two marked entities.
 */
export function instanceFromRecord(rec: Record<string, any>, source: string, record: number): RelationInstance {
  if (typeof rec?.text !== 'string') throw new UserError("expected a JSON object with a 'text' string", { file: source, record });
  let text: string, spans: CharSpan[];
  if (rec.e1 && rec.e2) {
    text = rec.text;
    spans = [rec.e1, rec.e2].map((e: any, k) => {
      if (!Number.isInteger(e.start) || !Number.isInteger(e.end) || e.start < 0 || e.end > text.length || e.start >= e.end) {
        throw new UserError(`entity e${k + 1} offsets [${e.start}, ${e.end}) lie outside the ${text.length}-character sentence`, { file: source, record });
      }
      if (!Object.values(TAGS).includes(e.type)) throw new UserError(`entity e${k + 1} has unknown type '${e.type}' (expected ${Object.values(TAGS).join(', ')})`, { file: source, record });
      return { start: e.start, end: e.end, type: e.type as EntityType };
    });
  } else {
    ({ text, spans } = parseMarkedText(rec.text, source, record));
    if (spans.length !== 2) throw new UserError(`expected exactly two marked entities, found ${spans.length}`, { file: source, record });
  }
  const toks = tokenize(text);
  const toSpan = (s: CharSpan): EntitySpan => {
    let start = -1, end = -1;
    toks.forEach((t, i) => {
      if (t.end > s.start && t.start < s.end) {
        if (start < 0) start = i;
        end = i + 1;
      }
    });
    if (start < 0) throw new UserError(`entity [${s.start}, ${s.end}) covers no token`, { file: source, record });
    return { type: s.type, start, end, text: text.slice(s.start, s.end) };
  };
  return { id: String(rec.id ?? record), docId: String(rec.docId ?? rec.id ?? record), tokens: toks.map((t) => t.text), e1: toSpan(spans[0]), e2: toSpan(spans[1]), label: String(rec.label ?? '') };
}

/** Reads a `predict` input file: one JSON record a line (see instanceFromRecord); errors name the file and line. */
export function readPredictionInput(path: string): RelationInstance[] {
  if (!existsSync(path)) throw new UserError('input file not found', { file: path });
  const lines = readFileSync(path, 'utf8').split('\n');
  const instances: RelationInstance[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let rec;
    try { rec = JSON.parse(lines[i]); } catch (e) { throw new UserError(`malformed JSON (${(e as Error).message})`, { file: path, record: `line ${i + 1}` }); }
    instances.push(instanceFromRecord(rec, path, i + 1));
  }
  return instances;
}

/** Predicts and writes one JSON line per instance (label, every label's probability, each word's attention weight), atomically when `out` is given. */
export async function writePredictions(model: REModel | InferenceEngine, instances: RelationInstance[], out?: string, batchSize = 32): Promise<void> {
  const preds = 'predict' in model ? await model.predict(instances, { attention: true, batchSize }) : predict(model, instances, batchSize, { attention: true });
  const w = out ? openAtomicWriter(out) : undefined;
  const write = (s: string) => (w ? w.write(s) : Promise.resolve(void process.stdout.write(s)));
  try {
    for (let i = 0; i < preds.length; i++) {
      const p = preds[i];
      await write(JSON.stringify({
        id: instances[i].id, label: p.label,
        probabilities: Object.fromEntries(model.labels.map((l, k) => [l, Number(p.probabilities[k].toFixed(6))])),
        ...(p.attention ? { attention: p.words.map((word, k) => ({ word, weight: Number((p.attention![k] ?? 0).toFixed(6)) })) } : { words: p.words }),
      }) + '\n');
    }
    await w?.commit();
  } catch (e) {
    w?.abort();
    throw e;
  }
}
