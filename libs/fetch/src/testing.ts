import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * A local HTTP server on 127.0.0.1 for downloader tests: routes serve real files, and faults can be queued
 * to hit matching requests (429 with Retry-After, 5xx, a connection cut mid-body, a truncated gzip body,
 * a replaced body such as a malformed record, no answer at all). It logs every request so tests can assert what was fetched.
 */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  /** Send the body gzip-encoded (Content-Encoding: gzip). */
  gzip?: boolean;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'cut' }
  | { kind: 'truncate-gzip' }
  | { kind: 'truncate' }
  | { kind: 'body'; body: string | Buffer }
  /** Never answers (the client's timeout, an abort or a kill ends the request). */
  | { kind: 'hang' };

export type Route = (url: URL, req: IncomingMessage, body: string) => Reply | undefined;

interface QueuedFault {
  match: (url: URL) => boolean;
  fault: Fault;
  left: number;
}

export class FaultServer {
  readonly log: { method: string; path: string; query: string; fault?: string }[] = [];
  private readonly routes: { prefix: string; route: Route }[] = [];
  private readonly faults: QueuedFault[] = [];
  private server!: Server;
  baseUrl = '';

  route(prefix: string, route: Route): this {
    this.routes.push({ prefix, route });
    return this;
  }

  /** Queues `fault` for the next `times` requests that `match`. */
  fault(match: (url: URL) => boolean, fault: Fault, times = 1): this {
    this.faults.push({ match, fault, left: times });
    return this;
  }

  /** How many requests reached a path (optionally only those whose query includes `needle`). */
  count(path: string, needle?: string): number {
    return this.log.filter((r) => r.path === path && (needle === undefined || r.query.includes(needle))).length;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', this.baseUrl);
      // a POST form counts as query too, so tests can match on it
      const query = url.search + (body ? `&${body}` : '');
      if (body && req.headers['content-type']?.includes('x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body)) url.searchParams.set(k, v);
      }
      const q = this.faults.find((f) => f.left > 0 && f.match(url));
      const entry: { method: string; path: string; query: string; fault?: string } = { method: req.method ?? 'GET', path: url.pathname, query };
      this.log.push(entry);
      if (q) q.left--;
      if (q?.fault.kind === 'hang') {
        entry.fault = 'hang';
        return;
      }
      if (q?.fault.kind === 'status') {
        entry.fault = `status ${q.fault.status}`;
        const h: Record<string, string> = { 'content-type': 'text/plain' };
        if (q.fault.retryAfter !== undefined) h['retry-after'] = q.fault.retryAfter;
        res.writeHead(q.fault.status, h).end(`injected ${q.fault.status}`);
        return;
      }
      const r = this.routes.find((x) => url.pathname.startsWith(x.prefix));
      let reply = r?.route(url, req, body);
      if (!reply) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      if (q?.fault.kind === 'body') {
        entry.fault = 'body';
        reply = { ...reply, body: q.fault.body };
      }
      let payload = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', ...reply.headers };
      if (reply.gzip || q?.fault.kind === 'truncate-gzip') {
        payload = gzipSync(payload);
        headers['content-encoding'] = 'gzip';
      }
      if (q?.fault.kind === 'truncate-gzip' || q?.fault.kind === 'truncate') {
        // a whole, well-framed HTTP response whose content is cut short
        entry.fault = q.fault.kind;
        payload = payload.subarray(0, Math.max(1, Math.floor(payload.length * 0.6)));
      }
      headers['content-length'] = String(payload.length);
      res.writeHead(reply.status ?? 200, headers);
      if (q?.fault.kind === 'cut') {
        // headers promise the whole body, then the connection dies half-way
        entry.fault = 'cut';
        res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => {
          setImmediate(() => res.socket?.destroy());
        });
        return;
      }
      res.end(payload);
    });
  }
}

export async function startFaultServer(): Promise<FaultServer> {
  return new FaultServer().start();
}
