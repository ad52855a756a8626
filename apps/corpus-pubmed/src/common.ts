// Flags and wiring shared by the download CLIs of this app: the HTTP client, NCBI identity, Ctrl-C.
import { HttpClient, ncbiClientOptions, ncbiIdentity, type NcbiIdentity } from '@biore/fetch';
import { UserError } from '@biore/runtime';

export const NCBI_FLAGS = {
  email: { type: 'string' }, tool: { type: 'string' }, 'api-key': { type: 'string' }, timeout: { type: 'string' }, retries: { type: 'string' },
} as const;

export function ncbiFromFlags(f: { email?: string; tool?: string; 'api-key'?: string; timeout?: string; retries?: string }): { id: NcbiIdentity; client: HttpClient } {
  const id = ncbiIdentity({ email: f.email, tool: f.tool, apiKey: f['api-key'] });
  const client = new HttpClient(ncbiClientOptions(id, {
    timeoutMs: f.timeout ? Number(f.timeout) * 1000 : undefined,
    retries: f.retries ? Number(f.retries) : undefined,
    onRetry: (r) => process.stderr.write(`retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s (${r.reason}): ${r.url}\n`),
  }));
  console.error(`NCBI: tool=${id.tool}${id.email ? ` email=${id.email}` : ' (no --email / NCBI_EMAIL: NCBI asks for one)'}, ${id.apiKey ? 'API key, 10' : 'no API key, 3'} requests/s`);
  return { id, client };
}

/** An AbortSignal raised by Ctrl-C / SIGTERM: the job stops after removing its unfinished shard. */
export function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  const stop = () => ac.abort(new UserError('interrupted; run the same command again to resume (finished shards are kept)'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ac.signal;
}

/** A folder-friendly name for a query: `asthma AND 2020[dp]` → `asthma-and-2020-dp`. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'query';
}
