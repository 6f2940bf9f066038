// The MacBook path end to end: cards are block devices the VM cannot see (loop devices standing in
// for a USB card reader), the builder is the atlas-build VM (the limactl double, with the work
// dir mounted at another guest path), and the host moves card bytes through the privileged
// raw-disk helper: used blocks only, both ways. Every step on the Mac side runs with the PATH of a
// stock Mac (test/helpers/macos-path.ts): what it starts that macOS lacks fails it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLONE_FILES, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import { ensureHelperBundle } from '../helpers/helper-bundle.js';
import {
  attachAsDevice,
  detach,
  dumpe2fs,
  e2fsckClean,
  rootChecksums,
  expectGrownCopy,
  usedCard,
  withPartition,
} from '../helpers/disk-tools.js';
import { startJob, type JobContext, type JobEvent } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { restore } from '../../src-main/core/phases/restore.js';
import { verify } from '../../src-main/core/phases/verify.js';
import { shrink } from '../../src-main/core/phases/shrink.js';
import { flash } from '../../src-main/core/phases/flash.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import { LimaBuilder } from '../../src-main/core/lima/lima-builder.js';
import { vmSetup } from '../../src-main/core/lima/vm.js';
import { macosPath, NOT_ON_A_MAC, startsOnAMac, withMacosPath } from '../helpers/macos-path.js';
import { odsSd } from '../helpers/cli.js';

const ENV_KEYS = ['LIMA_HOME', 'ATLAS_LIMA_DOUBLE_HIDE'] as const;
const MiB = 1024 * 1024;

/** A job on the Mac side: with the PATH of a stock Mac. */
const run = <T>(fn: (ctx: JobContext) => Promise<T>, onEvent?: (e: JobEvent) => void): Promise<T> =>
  withMacosPath(() => {
    const job = startJob('test', fn);
    if (onEvent) job.on('event', onEvent);
    return job.promise;
  });

/** Bytes in use on the card's file systems, by dumpe2fs and the FAT size (the benchmark's "used"). */
function usedBytes(card: string): number {
  const fs = dumpe2fs(card);
  return (Number(fs['Block count']) - Number(fs['Free blocks'])) * Number(fs['Block size']);
}

describe('from a MacBook: VM builder, host-side card reads and writes', () => {
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
  let dir: string;
  let shared: string;
  let guestRoot: string;
  let limaHome: string;
  let lima: Limactl;
  let env: { builder: LimaBuilder; library: string };
  let cardFile: string;
  let card: string;

  beforeAll(async () => {
    for (const k of ENV_KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
    ensureHelperBundle(); // the raw-disk helper runs from dist/
    dir = scratch('mac');
    shared = join(dir, 'atlas-build');
    guestRoot = mkdtempSync('/tmp/atlas-guest-');
    limaHome = mkdtempSync('/tmp/alh-');
    process.env.LIMA_HOME = limaHome;
    process.env.ATLAS_LIMA_DOUBLE_HIDE = [
      join(ROOT, 'lima', 'scripts'),
      join(ROOT, 'test-output', 'fixtures'),
      dir,
    ].join(':');
    const text = readFileSync(join(ROOT, 'lima', 'atlas-build.yaml'), 'utf8');
    const template = join(dir, 'atlas-build.yaml');
    writeFileSync(
      template,
      text.replace('mountPoint: /mnt/atlas-work', `mountPoint: '${join(guestRoot, 'work')}'`),
    );
    lima = Limactl.locate({ PATH: macosPath() });
    await run((ctx) => vmSetup(lima, { library: shared, template }, ctx));
    env = {
      builder: await withMacosPath(() => LimaBuilder.connect({ limactl: lima })),
      library: shared,
    };
    // A dev card in the reader: provisioned, 1.2 GB, old data in its free space.
    cardFile = join(dir, 'reader-card.img');
    usedCard(cardFile, 1200, 0xaa, fixture('provisioned', { rootMiB: 600, fillMiB: 60 }));
    card = attachAsDevice(cardFile);
  });

  afterAll(async () => {
    if (card) detach(card);
    await lima?.delete('atlas-build', { force: true }).catch(() => undefined);
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(limaHome, { recursive: true, force: true });
    if (!readFileSync('/proc/self/mounts', 'utf8').includes(guestRoot))
      rmSync(guestRoot, { recursive: true, force: true });
  });

  it('the Mac side can start nothing that macOS lacks', () => {
    for (const cmd of NOT_ON_A_MAC) expect(startsOnAMac(cmd), cmd).toBe(false);
    for (const cmd of ['limactl', 'node', 'sh', 'gzip', 'df', 'id'])
      expect(startsOnAMac(cmd), cmd).toBe(true);
  });

  it('the VM cannot see the card: the builder refuses its path', () => {
    expect(env.builder.seesHostDevices).toBe(false);
    expect(() => env.builder.toBuilderPath(card)).toThrow(/outside the folders shared/);
  });

  it('clones the card: only used blocks cross the reader, and the set is the seed format', async () => {
    const used = usedBytes(cardFile);
    const before =
      Number(
        readFileSync(`/sys/block/${card.slice(5)}/stat`, 'utf8')
          .trim()
          .split(/\s+/)[2],
      ) * 512;
    const plans: string[][] = [];
    const steps: string[] = [];
    const r = await run(
      (ctx) => clone(env, { card, name: 'v8-1-0-MAC' }, ctx),
      (e) => {
        if (e.type === 'plan') plans.push(e.steps.map((p) => p.id));
        if (e.type === 'step') steps.push(e.step.id);
      },
    );
    // The plan announced is the one followed: the used-block copy is the root's clone.
    expect(plans).toHaveLength(1);
    expect(steps).toEqual(plans[0]);
    expect(steps).not.toContain('clone-root');
    const after =
      Number(
        readFileSync(`/sys/block/${card.slice(5)}/stat`, 'utf8')
          .trim()
          .split(/\s+/)[2],
      ) * 512;
    expect(r.files.map((f) => f.name)).toEqual(CLONE_FILES);
    expect(r.sourceState).toBe('provisioned');
    // The device's own counters: what crossed the "card reader".
    expect(after - before).toBeLessThanOrEqual(1.1 * used + 64 * MiB);
    expect(after - before).toBeLessThan(statSync(cardFile).size / 4);
    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    expect(m.notes.join(' ')).toMatch(
      /used blocks only; the root's partclone image made from them as they were read/,
    );
    // One pass over the reader: the root's image was made on the Mac from the blocks read, and is
    // byte for byte what partclone.ext4 writes from the card's root partition.
    const big = { maxBuffer: 1024 * MiB, stdio: ['ignore', 'pipe', 'ignore'] as const };
    const ours = execFileSync('pigz', ['-dc', join(r.dir, 'sdc2-root.partclone.gz')], big);
    const theirs = withPartition(cardFile, 2, (dev) =>
      execFileSync('partclone.ext4', ['-c', '-s', dev, '-o', '-'], big),
    );
    expect(ours.length).toBe(theirs.length);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('verifies the card through the VM', async () => {
    const r = await run((ctx) => verify(env, { card }, ctx));
    expect(r.ok).toBe(true);
    expect(r.checks).toHaveLength(12);
  });

  it('restores onto another card: the VM builds it, the host writes only its used blocks', async () => {
    const targetFile = join(dir, 'new-card.img');
    usedCard(targetFile, 1500, 0x55);
    const target = attachAsDevice(targetFile);
    try {
      const r = await run((ctx) => restore(env, { card: target, set: 'v8-1-0-MAC' }, ctx));
      expect(r.grown).toBe(true);
      expect(r.writtenBytes).toBeLessThanOrEqual(1.1 * usedBytes(cardFile) + 64 * MiB);
      expectGrownCopy(target, cardFile, 1500 * MiB);
    } finally {
      detach(target);
    }
  });

  it('shrinks the card into a clone image in the work dir, then flashes it onto a card', async () => {
    const r = await run((ctx) => shrink(env, { card, version: '9.1.7', tag: 'MAC' }, ctx));
    expect(r.readBytes).toBeLessThanOrEqual(1.1 * usedBytes(cardFile) + 64 * MiB);
    expect(e2fsckClean(r.image).code).toBe(0);
    const targetFile = join(dir, 'flash-card.img');
    execFileSync('truncate', ['-s', String(statSync(r.image).size + 8 * MiB), targetFile]);
    const target = attachAsDevice(targetFile);
    try {
      const f = await run((ctx) => flash(env, { image: r.image, cards: [target] }, ctx));
      expect(f.mode).toBe('bmap');
      expect(f.cards[0]).toMatchObject({ ok: true, verified: true });
      expect(rootChecksums(target)).toEqual(rootChecksums(r.image));
    } finally {
      detach(target);
    }
  });

  it(
    'shrink --compress zst: the VM compresses; the host decodes it itself to flash and inspect it',
    { timeout: 300_000 },
    async () => {
      const r = await run((ctx) => shrink(env, { card, version: '9.1.8', tag: 'MAC', compress: 'zst' }, ctx));
      expect(r.compression).toBe('zst');
      expect(r.image).toMatch(/\.img\.zst$/);
      // Judged by the real zstd, outside the Mac side.
      const plain = join(dir, 'shrunk-from-zst.img');
      execFileSync('bash', ['-c', 'zstd -dcq -- "$1" > "$2"', 'z', r.image, plain]);
      expect(statSync(plain).size).toBe(r.imageBytes);
      expect(execFileSync('sha256sum', [plain], { encoding: 'utf8' }).split(' ')[0]).toBe(r.imageSha256);
      expect(e2fsckClean(plain).code).toBe(0);
      // The compressed file's size and checksum, hashed by the VM as it wrote the file.
      expect(statSync(r.image).size).toBe(r.bytes);
      expect(execFileSync('sha256sum', [r.image], { encoding: 'utf8' }).split(' ')[0]).toBe(r.sha256);

      const targetFile = join(dir, 'flash-zst-card.img');
      execFileSync('truncate', ['-s', String(r.imageBytes + 8 * MiB), targetFile]);
      const target = attachAsDevice(targetFile);
      try {
        const f = await run((ctx) => flash(env, { image: r.image, cards: [target] }, ctx));
        expect(f.cards[0]).toMatchObject({ ok: true, verified: true });
        expect(rootChecksums(target)).toEqual(rootChecksums(plain));
      } finally {
        detach(target);
      }

      // The CLI on a Mac, started with a stock Mac's PATH: it decodes the image itself, the VM
      // inspects it.
      const cli = await withMacosPath(() =>
        odsSd(['inspect', r.image, '--library', shared], {
          env: {
            ATLAS_BUILDER: 'lima',
            LIMA_HOME: limaHome,
            ATLAS_LIMA_DOUBLE_HIDE: process.env.ATLAS_LIMA_DOUBLE_HIDE!,
          },
        }),
      );
      expect(cli.json.error).toBeUndefined();
      expect(cli.json.result).toMatchObject({ compression: 'zst', kind: 'file' });
      expect(cli.json.result.table).toBeTruthy();
    },
  );
});
