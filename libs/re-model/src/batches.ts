import { Rng } from '@biore/runtime';

/**
 * The batches of one epoch, as index lists: a seeded shuffle, then pools of 50 batches sorted by length
 * so a batch holds sentences of similar length (less padding in the recurrence), then the batch order shuffled.
 * Depends only on (seed, epoch), so a resumed run sees the same batches as an unbroken one.
 */
export function epochBatches(lengths: readonly number[], batchSize: number, seed: number, epoch: number): number[][] {
  const rng = new Rng(seed * 1000003 + epoch * 7919 + 1);
  const order = rng.shuffle(lengths.map((_, i) => i));
  const pool = batchSize * 50;
  const batches: number[][] = [];
  for (let p = 0; p < order.length; p += pool) {
    const chunk = order.slice(p, p + pool).sort((a, b) => lengths[a] - lengths[b]);
    for (let b = 0; b < chunk.length; b += batchSize) batches.push(chunk.slice(b, b + batchSize));
  }
  return rng.shuffle(batches);
}

/** Fixed-order batches for evaluation, sorted by length for speed; `order` maps back to input positions. */
export function evalBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  const batches: number[][] = [];
  for (let b = 0; b < order.length; b += batchSize) batches.push(order.slice(b, b + batchSize));
  return batches;
}
