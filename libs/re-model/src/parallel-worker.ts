// The worker entry of RE data-parallel training: registers the embedder types and the lite family, then serves
// gradients of its shards (see parallel.ts).
import '@biore/embeddings';
import { serveGradients } from '@biore/nn';
import './lite.ts';
import { reRecipe } from './parallel.ts';

serveGradients(reRecipe);
