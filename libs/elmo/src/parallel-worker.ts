// The worker entry of biLM data-parallel training: serves gradients of its rows of each batch (see parallel.ts).
import { serveGradients } from '@biore/nn';
import { bilmRecipe } from './parallel.ts';

serveGradients(bilmRecipe);
