import type { HttpClientOptions } from './client.ts';

/** NCBI E-utilities asks every client to name itself (`tool`, `email`) and allows 10 requests/s with an API key, else 3. */
export interface NcbiIdentity {
  tool: string;
  email?: string;
  apiKey?: string;
}

export const EUTILS_BASE = 'https://eutils.ncbi.nlm.nih.gov/entrez/eutils';
export const PUBMED_BASELINE_BASE = 'https://ftp.ncbi.nlm.nih.gov/pubmed/baseline';
export const PUBMED_UPDATES_BASE = 'https://ftp.ncbi.nlm.nih.gov/pubmed/updatefiles';

/** The identity from flags, else NCBI_TOOL / NCBI_EMAIL / NCBI_API_KEY. */
export function ncbiIdentity(flags: { tool?: string; email?: string; apiKey?: string } = {}): NcbiIdentity {
  return {
    tool: flags.tool ?? process.env.NCBI_TOOL ?? 'biore',
    email: flags.email ?? process.env.NCBI_EMAIL,
    apiKey: flags.apiKey ?? process.env.NCBI_API_KEY,
  };
}

/** The query parameters NCBI wants on every E-utilities request. */
export function ncbiParams(id: NcbiIdentity): Record<string, string | undefined> {
  return { tool: id.tool, email: id.email, api_key: id.apiKey };
}

/** E-utilities allows 3 requests/s per user, 10 with an API key. */
export function ncbiRate(id: NcbiIdentity): number {
  return id.apiKey ? 10 : 3;
}

export function userAgent(id: NcbiIdentity): string {
  return `${id.tool}/0.1 (biore corpus builder${id.email ? `; mailto:${id.email}` : ''})`;
}

/** Client options for NCBI hosts: their rate, the NCBI-friendly user agent. */
export function ncbiClientOptions(id: NcbiIdentity, extra: HttpClientOptions = {}): HttpClientOptions {
  return { userAgent: userAgent(id), ratePerHost: ncbiRate(id), ...extra };
}
