/** Picks the builder: the local host on Linux; the Lima VM on macOS (see lima-builder). */
import { AtlasError } from '../errors.js';
import type { Builder } from './builder.js';
import { LocalBuilder } from './local-builder.js';

export function selectBuilder(preference = process.env.ATLAS_BUILDER): Builder {
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
  throw new AtlasError(
    'unsupported',
    `builder "${choice}" is not available in this version`,
    'run ods-sd on a Linux build host (ATLAS_BUILDER=local)',
  );
}
