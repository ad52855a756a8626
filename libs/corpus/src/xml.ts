import { createReadStream, existsSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { UserError } from '@biore/runtime';

/** Text input for the parsers: a file path (gunzipped when it ends in `.gz`), a stream, or chunks. */
export type TextSource = string | Readable | AsyncIterable<string | Buffer> | Iterable<string | Buffer>;

/** Opens a file as a UTF-8 text stream, decompressing `.gz` on the fly. */
export function openText(file: string): Readable {
  if (!existsSync(file)) throw new UserError('file not found', { file });
  const raw = createReadStream(file);
  const s = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  if (s !== raw) raw.on('error', (e) => s.destroy(e));
  s.setEncoding('utf8');
  return s;
}

export function sourceName(src: TextSource, name?: string): string {
  return name ?? (typeof src === 'string' ? src : '<stream>');
}

function toIterable(src: TextSource): AsyncIterable<string | Buffer> | Iterable<string | Buffer> {
  if (typeof src === 'string') return openText(src);
  return src;
}

/** What a record-oriented XML handler sees: tags and text, and a way to emit finished records. */
export interface XmlHandler<T> {
  open(tag: SaxesTagPlain, stack: readonly string[]): void;
  close(name: string, stack: readonly string[]): void;
  text(t: string): void;
  /** A short description of the record being parsed, for error messages (e.g. `12 (PMID 123)`). */
  where(): string | undefined;
  /** Records finished since the last call. */
  drain(): T[];
}

/**
 * Feeds `src` to a streaming XML parser chunk by chunk and yields each record as soon as it is complete, so
 * memory holds one chunk and one record whatever the file size. Malformed XML is a UserError naming the
 * file, the record and the line.
 */
export async function* streamXmlRecords<T>(src: TextSource, file: string, handler: XmlHandler<T>): AsyncGenerator<T> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: string[] = [];
  let failure: Error | undefined;
  const fail = (msg: string) => {
    throw new UserError(`malformed XML at line ${parser.line}: ${msg}`, { file, record: handler.where() });
  };
  parser.on('error', (e) => fail(e.message.replace(/^[^:]*:\d+:\d+: /, '')));
  let opened = 0;
  parser.on('opentag', (tag) => {
    opened++;
    stack.push(tag.name);
    handler.open(tag as SaxesTagPlain, stack);
  });
  parser.on('closetag', (tag) => {
    stack.pop();
    handler.close(tag.name, stack);
  });
  parser.on('text', (t) => handler.text(t));
  parser.on('cdata', (t) => handler.text(t));
  try {
    for await (const chunk of toIterable(src) as AsyncIterable<string | Buffer>) {
      const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      parser.write(s);
      const out = handler.drain();
      for (const r of out) yield r;
    }
    parser.close();
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') {
      failure = new UserError(`truncated or corrupt gzip (${(e as Error).message})`, { file, record: handler.where() });
    } else if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      failure = new UserError(`cannot read (${code})`, { file });
    } else throw e;
  }
  if (failure) throw failure;
  if (opened === 0) {
    throw new UserError('empty input: expected an XML document', { file });
  }
  for (const r of handler.drain()) yield r;
}

/** Collapses runs of whitespace and trims. */
export function squeeze(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
