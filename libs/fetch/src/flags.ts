import { COMMON_FLAGS, type Flag } from '@biore/runtime';
import { HttpClient } from './client.ts';
import { ncbiClientOptions, ncbiIdentity, type NcbiIdentity } from './ncbi.ts';

/** What every E-utilities download command asks: the query or id list, dates, the server, and NCBI's identity. */
export const EUTILS_FLAGS = {
  query: { type: 'string', placeholder: 'QUERY', description: 'Entrez query (E-utilities search)' },
  ids: { type: 'string', placeholder: 'FILE', description: 'ids to fetch instead of a query, one a line or separated by commas or spaces' },
  from: { type: 'string', placeholder: 'YYYY/MM/DD', description: 'first publication date of the query' },
  to: { type: 'string', placeholder: 'YYYY/MM/DD', description: 'last publication date of the query' },
  'limit-docs': { ...COMMON_FLAGS['limit-docs'], deprecated: ['max'], description: 'fetch at most N records (all when absent)' },
  force: { ...COMMON_FLAGS.force, deprecated: ['restart'], description: 'start over: discard the shards already downloaded (a rerun resumes otherwise)' },
  'eutils-base': { type: 'string', placeholder: 'URL', description: 'E-utilities base URL (a mirror or a test server)' },
  email: { type: 'string', placeholder: 'ADDRESS', description: 'contact address NCBI asks for (else NCBI_EMAIL)' },
  tool: { type: 'string', placeholder: 'NAME', description: 'tool name sent to NCBI (else NCBI_TOOL, else biore)' },
  'api-key': { type: 'string', placeholder: 'KEY', description: 'NCBI API key: 10 requests/s instead of 3 (else NCBI_API_KEY)' },
  timeout: { type: 'number', min: 0, exclusiveMin: true, placeholder: 'S', description: 'seconds before a request is abandoned and retried' },
  retries: { type: 'int', min: 0, max: 100, description: 'retries of a failed request' },
} as const satisfies Record<string, Flag>;

/** NCBI's identity and an HTTP client at NCBI's rate from those flags; prints the identity on stderr. */
export function ncbiFromFlags(f: { email?: string; tool?: string; 'api-key'?: string; timeout?: number; retries?: number }): { id: NcbiIdentity; client: HttpClient } {
  const id = ncbiIdentity({ email: f.email, tool: f.tool, apiKey: f['api-key'] });
  const client = new HttpClient(ncbiClientOptions(id, {
    timeoutMs: f.timeout !== undefined ? f.timeout * 1000 : undefined,
    retries: f.retries,
    onRetry: (r) => process.stderr.write(`retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s (${r.reason}): ${r.url}\n`),
  }));
  console.error(`NCBI: tool=${id.tool}${id.email ? ` email=${id.email}` : ' (no --email / NCBI_EMAIL: NCBI asks for one)'}, ${id.apiKey ? 'API key, 10' : 'no API key, 3'} requests/s`);
  return { id, client };
}
