// What the library keeps is never written as a card: a golden image in the library is refused as
// the target of erase and flash by the CLI, by the app's card checks and by the raw-disk helper,
// whether it is named by its path, through a symbolic link, a hard link, a library reached through
// a link, or a loop device attached over it. Each refusal leaves the image's bytes as they were
// (sha256). An image file outside the library is still written, so the guard refuses only what it
// must.
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { attachAsDevice, detach, makeFile, sha256 } from '../helpers/disk-tools.js';
import { flashCheck, identifyCandidate, protectedPlaces } from '../../src-main/app/card-checks.js';
import { HELPER_PATH, identifyRawCard } from '../../src-main/core/card-io/card-reads.js';

const MiB = 1024 * 1024;
const GOLDEN = 'ods-atlas-golden-v1-0-0-KEEP.img';

describe('the library is never a write target', () => {
  let dir: string;
  let lib: string;
  let golden: string;
  let before: string;
  let other: string;

  beforeAll(() => {
    dir = scratch('library-never-target');
    lib = join(dir, 'atlas-build');
    mkdirSync(lib, { recursive: true });
    golden = copyFixture(fixture('provisioned'), lib, GOLDEN);
    before = sha256(golden);
    // An image to flash, outside the library.
    other = copyFixture(fixture('provisioned'), dir, 'to-flash.img');
  });

  const unchanged = () => expect(sha256(golden)).toBe(before);

  it('ods-sd erase of a golden image in the library is refused, by path', async () => {
    const r = await odsSd(['erase', golden, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.code).toBe('unsafe-target');
    expect(r.json.error?.message).toMatch(/is in the library/);
    unchanged();
  });

  it('… through a symbolic link outside the library, and a library named through a link', async () => {
    const link = join(dir, 'looks-like-a-card.img');
    symlinkSync(golden, link);
    const viaLink = await odsSd(['erase', link, '--library', lib, '--yes']);
    expect(viaLink.code, viaLink.stderr).toBe(2);
    expect(viaLink.json.error?.message).toMatch(/is in the library/);
    const libLink = join(dir, 'library-link');
    symlinkSync(lib, libLink);
    const viaLibLink = await odsSd(['erase', golden, '--library', libLink, '--yes']);
    expect(viaLibLink.code, viaLibLink.stderr).toBe(2);
    unchanged();
  });

  it('… through a hard link outside the library', async () => {
    const hard = join(dir, 'hard-link.img');
    linkSync(golden, hard);
    const r = await odsSd(['erase', hard, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.message).toMatch(/hard link/);
    unchanged();
  });

  it('ods-sd flash onto a golden image in the library is refused', async () => {
    const r = await odsSd(['flash', other, golden, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.code).toBe('unsafe-target');
    unchanged();
  });

  describe('a loop device attached over the golden image', () => {
    let dev: string;
    beforeAll(() => {
      dev = attachAsDevice(golden);
    });
    afterAll(() => detach(dev));

    it('is refused by ods-sd erase', async () => {
      const r = await odsSd(['erase', dev, '--library', lib, '--yes', '--no-eject']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error?.message).toMatch(/loop device over .*in the library/);
      unchanged();
    });

    it('is refused by the raw-disk helper itself, told where the library is', async () => {
      const card = await identifyRawCard(dev);
      const child = spawn(process.execPath, [HELPER_PATH], { stdio: ['pipe', 'pipe', 'pipe'] });
      const events: Array<Record<string, unknown>> = [];
      createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l)));
      child.stdin.write(
        `${JSON.stringify({
          op: 'write',
          device: dev,
          expect: {
            bytes: card.bytes,
            ...(card.medium ? { medium: card.medium } : {}),
            ...(card.table ? { table: card.table } : {}),
          },
          source: other,
          verify: false,
          places: [{ what: 'the library', path: lib }],
        })}\n`,
      );
      const code = await new Promise<number | null>((res) => child.on('close', res));
      expect(code).not.toBe(0);
      expect(JSON.stringify(events.at(-1))).toMatch(/in the library/);
      unchanged();
    });
  });

  it("the app's card checks mark a library image unusable, and allow an image outside it", async () => {
    const places = protectedPlaces({
      library: lib,
      stagingDir: join(dir, 'staging'),
      archiveDir: join(dir, 'arch'),
    });
    const c = await identifyCandidate(golden, places);
    expect(c.usable).toBe(false);
    expect(c.reasons.join(' ')).toMatch(/in the library/);
    const checks = await flashCheck(other, [c.ref], places);
    expect(checks[0]!.usable).toBe(false);
    const outside = makeFile(join(dir, 'scratch-card.img'), 64 * MiB, [[0, 1, 'random']]);
    expect((await identifyCandidate(outside, places)).usable).toBe(true);
  });

  it('an image file outside the library is still erased', async () => {
    const card = makeFile(join(dir, 'outside.img'), 64 * MiB, [[0, 1, 'random']]);
    const r = await odsSd(['erase', card, '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(card).subarray(510, 512).toString('hex')).toBe('55aa');
    unchanged();
  });
});
