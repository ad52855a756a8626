// Wiring shared by the download CLIs of this app: Ctrl-C, folder names.
import { UserError } from '@biore/runtime';

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
