// The worker entry of char-LM data-parallel training: serves gradients of its rows of each window (see parallel.ts).
import { serveGradients } from '@biore/nn';
import { charLMRecipe } from './parallel.ts';

serveGradients(charLMRecipe);
