/**
 * Picks the builder: this host on Linux (the lab's build box, CI), the atlas-build Lima VM on a
 * Mac. ATLAS_BUILDER=local|lima overrides the choice.
 */
import { AtlasError } from '../errors.js';
import { LimaBuilder } from './lima-builder.js';
import type { Builder } from '../builder/builder.js';
import { LocalBuilder } from '../builder/local-builder.js';

export async function selectBuilder(
  library: string,
  preference = process.env.ATLAS_BUILDER,
): Promise<Builder> {
  const choice = preference ?? (process.platform === 'linux' ? 'local' : 'lima');
  if (choice === 'local') {
    if (process.platform !== 'linux') {
      throw new AtlasError(
        'unsupported',
        'the local builder needs Linux',
        'on a Mac the disk tools run in the atlas-build Lima VM',
      );
    }
    return new LocalBuilder();
  }
  if (choice === 'lima') return LimaBuilder.connect({ workDir: library });
  throw new AtlasError('usage', `unknown builder "${choice}"`, 'ATLAS_BUILDER is local or lima');
}
