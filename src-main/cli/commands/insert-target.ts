/**
 * Where `insert` puts the golden image and what it is called, from either form:
 *   ours:   insert BASE --version X.Y.Z --tag TAG [--out-dir DIR]
 *   ods-sd: insert BASE OUT, OUT named as the seed names a golden image (ods-atlas-golden-vX-Y-Z-TAG.img):
 *           the version and tag come from that name and the folder from OUT's.
 * Both forms may be mixed only where they agree. Without --payload, the ods-player-os-atlas checkout
 * where tools/ods-sd lives is the payload, when it is there.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { AtlasError } from '../../core/errors.js';
import { odsSdCheckout } from '../../core/library/ods-sd-layout.js';
import { goldenImageName, parseArtifactName } from '../../core/naming.js';

const HINT = 'see ods-sd insert --help';

export interface InsertTarget {
  version: string;
  tag: string;
  outDir?: string;
}

export function insertTarget(
  out: string | undefined,
  o: { version?: string | undefined; tag?: string | undefined; outDir?: string | undefined },
): InsertTarget {
  if (out === undefined) {
    if (!o.version || !o.tag)
      throw new AtlasError('usage', 'insert needs --version and --tag, or the output image OUT', HINT);
    return { version: o.version, tag: o.tag, ...(o.outDir ? { outDir: o.outDir } : {}) };
  }
  const parsed = parseArtifactName(basename(out));
  if (parsed?.kind !== 'golden-image' || !parsed.version || !parsed.tag) {
    throw new AtlasError(
      'usage',
      `insert: ${basename(out)} is not a golden image's name, so its version and tag are unknown`,
      `name it ods-atlas-golden-vX-Y-Z-TAG.img (for example ${goldenImageName('9.1.7', 'FEATURE')}), or give --version and --tag without OUT`,
    );
  }
  for (const [flag, given, named] of [
    ['--version', o.version, parsed.version],
    ['--tag', o.tag, parsed.tag],
  ] as const) {
    if (given !== undefined && given !== named)
      throw new AtlasError('usage', `insert: ${flag} ${given} disagrees with OUT's name (${named})`, HINT);
  }
  const outDir = dirname(resolve(out));
  if (o.outDir !== undefined && resolve(o.outDir) !== outDir)
    throw new AtlasError(
      'usage',
      `insert: --out-dir ${o.outDir} disagrees with OUT's folder ${outDir}`,
      HINT,
    );
  return { version: parsed.version, tag: parsed.tag, outDir };
}

/** --payload, else the checkout tools/ods-sd runs from. */
export function insertPayload(given: string | undefined, home?: string): string {
  if (given) return given;
  const checkout = odsSdCheckout(home);
  if (existsSync(checkout)) return checkout;
  throw new AtlasError(
    'usage',
    'insert needs --payload',
    `no ods-player-os-atlas checkout at ${checkout}; ${HINT}`,
  );
}
