/**
 * The benchmarks' cards and builder: an Armbian-shaped card image whose free space holds old data
 * (as a used card's does), and the Mac path's builder on this host (it cannot open the card, so the
 * host reads and writes it).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Builder } from '../src-main/core/builder/builder.js';
import { LocalBuilder } from '../src-main/core/builder/local-builder.js';
import { PACKAGE_ROOT } from '../src-main/core/paths.js';

const MiB = 1024 * 1024;
/** What make-card-image.sh puts before the root partition and after it, in MiB. */
const NOT_ROOT_MIB = 517;

/** A provisioned card image of `cardMiB` MiB with `filesMiB` MiB of files in its root. */
export function makeCardImage(path: string, cardMiB: number, filesMiB: number): void {
  execFileSync(
    'bash',
    [
      `${PACKAGE_ROOT}/test/fixtures/make-card-image.sh`,
      'provisioned',
      path,
      '--root-mib',
      String(cardMiB - NOT_ROOT_MIB),
      '--fill-mib',
      String(filesMiB),
      '--seed',
      'bench',
    ],
    { stdio: 'inherit' },
  );
}

/**
 * The same card as a used one: old data everywhere first, then the file systems over it, so free
 * blocks keep the old data. `scratch` is a file name for the intermediate image.
 */
export function makeUsedCard(path: string, scratch: string, cardMiB: number, filesMiB: number): void {
  makeCardImage(scratch, cardMiB, filesMiB);
  execFileSync('bash', [
    '-c',
    `head -c ${cardMiB * MiB} /dev/zero | openssl enc -aes-128-ctr -nosalt -pass pass:old-data -pbkdf2 2>/dev/null > "$1"`,
    'x',
    path,
  ]);
  execFileSync('dd', [`if=${scratch}`, `of=${path}`, 'bs=4M', 'conv=notrunc,sparse', 'status=none']);
  rmSync(scratch);
}

/** The Mac path: the builder cannot open the card, so the host reads and writes it. */
export function macPathBuilder(): Builder {
  const local = new LocalBuilder();
  return {
    kind: 'lima',
    seesHostDevices: false,
    describe: () => 'this host, as the atlas-build VM would be (cards moved by the host)',
    toBuilderPath: (p) => local.toBuilderPath(p),
    runScript: (s, a, c, o) => local.runScript(s, a, c, o),
    stageSecrets: (f) => local.stageSecrets(f),
  };
}
