// Flash writes Raspberry Pi card images only: a text file, random bytes, or a disk image whose
// first partition is not FAT are refused before any byte is written, saying what was found, by the
// CLI before it asks for its confirmation and by the app's flash check; --force writes such a file
// all the same. Targets are image files; their bytes are compared before and after (sha256).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { scratch } from '../helpers/fixtures.js';
import { makeFile, sha256 } from '../helpers/disk-tools.js';
import { flashCheck, identifyCandidate } from '../../src-main/app/card-checks.js';

const MiB = 1024 * 1024;

describe('flash refuses what is not a Raspberry Pi card image', () => {
  let dir: string;
  let lib: string;
  let card: string;
  let before: string;
  let notes: string;
  let random: string;
  let linuxFirst: string;

  beforeAll(() => {
    dir = scratch('flash-not-an-image');
    lib = join(dir, 'atlas-build');
    mkdirSync(lib);
    card = makeFile(join(dir, 'card.img'), 64 * MiB, [[0, 2, 'random']]);
    before = sha256(card);
    notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'Shopping list\n- SD cards\n- a USB reader\n'.repeat(50));
    random = makeFile(join(dir, 'random.img'), 10 * MiB, [[0, 10, 'random']]);
    // A disk image with a valid MBR whose only partition is a Linux one (no FAT boot partition).
    linuxFirst = makeFile(join(dir, 'linux-first.img'), 16 * MiB, []);
    execFileSync('sfdisk', ['-q', linuxFirst], { input: 'label: dos\nstart=2048, type=83\n' });
  });

  it('a text file: refused, with what was found, the card untouched', async () => {
    const r = await odsSd(['flash', notes, card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(
      /not a Raspberry Pi card image: no partition table: it looks like a text file/,
    );
    expect(r.json.error?.hint).toMatch(/--force/);
    expect(sha256(card)).toBe(before);
  });

  it('10 MB of random bytes: refused', async () => {
    const r = await odsSd(['flash', random, card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(/no partition table: its first sector has no partition table/);
    expect(sha256(card)).toBe(before);
  });

  it('an image whose first partition is Linux, not FAT: refused, naming the type', async () => {
    const r = await odsSd(['flash', linuxFirst, card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(/partition 1 is type 0x83 \(Linux\), not the FAT boot partition/);
    expect(sha256(card)).toBe(before);
  });

  it('a compressed text file: refused from its decompressed head', async () => {
    const gz = `${notes}.img.gz`;
    writeFileSync(gz, execFileSync('gzip', ['-c', notes]));
    const r = await odsSd(['flash', gz, card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(/looks like a text file/);
    expect(sha256(card)).toBe(before);
  });

  it('the CLI checks the image and the card before it asks for the confirmation', async () => {
    // No terminal and no --yes: the refusal is the image's, not "confirm with --yes".
    const image = await odsSd(['flash', notes, card, '--library', lib]);
    expect(image.code).toBe(2);
    expect(image.json.error?.message).toMatch(/not a Raspberry Pi card image/);
    // A card the library keeps is refused before the question too.
    const kept = makeFile(join(lib, 'ods-atlas-golden-v1-0-0-KEEP.img'), 64 * MiB, [[0, 1, 'random']]);
    const target = await odsSd(['erase', kept, '--library', lib]);
    expect(target.code).toBe(2);
    expect(target.json.error?.message).toMatch(/is in the library/);
  });

  it("the app's flash check gives the same reason for every card", async () => {
    const c = await identifyCandidate(card, []);
    const [check] = await flashCheck(linuxFirst, [c.ref], []);
    expect(check!.usable).toBe(false);
    expect(check!.reasons.join(' ')).toMatch(/not a Raspberry Pi card image: partition 1 is type 0x83/);
  });

  it('--force writes such a file all the same', async () => {
    const r = await odsSd(['flash', random, card, '--library', lib, '--yes', '--force']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.cards[0]).toMatchObject({ ok: true, verified: true });
    expect(
      readFileSync(card)
        .subarray(0, 10 * MiB)
        .equals(readFileSync(random)),
    ).toBe(true);
  });
});
