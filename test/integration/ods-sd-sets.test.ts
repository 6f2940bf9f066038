// Clone sets made by the user's own tools/ods-sd (clones/NAME/ with a dump taken from a loop device,
// restore.sh, no manifest) are found where it keeps them, checked before they are written
// (partclone header, partclone.chkimg, the dump), restored by their name and adopted into the
// library; their folder is never written. Runs for real as root, like clone-restore.test.ts.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, removeScratch, ROOT, scratch } from '../helpers/fixtures.js';
import { e2fsckClean, loopDevicesLeft, rootChecksums, sha256 } from '../helpers/disk-tools.js';

const NAME = 'clone-20260305_101010';

/** Every file of a folder with its checksum and modification time: what "left as it was" means. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, `${sha256(join(dir, f))} ${statSync(join(dir, f)).mtimeMs}`]),
  );
}

function emptyCard(path: string, bytes: number): string {
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(bytes), path]);
  return path;
}

describe("tools/ods-sd's clone sets", () => {
  let dir: string;
  let home: string;
  let lib: string;
  let source: string;
  let theirs: string;
  let before: Record<string, string>;
  const run = (args: string[]) => odsSd([...args, '--library', lib], { env: { HOME: home } });

  beforeAll(() => {
    dir = scratch('ods-sd-sets');
    home = join(dir, 'home');
    lib = join(dir, 'library');
    source = copyFixture(fixture('provisioned', { fillMiB: 8 }), dir, 'dev-card.img');
    theirs = join(home, 'Documents', 'GitHub', 'ods-player-os-atlas', 'clones', NAME);
    // Their raw read of the card (dd into /tmp/lima-sd-work/raw.img), then their partclone steps.
    const raw = copyFixture(source, dir, 'raw.img');
    execFileSync('bash', [join(ROOT, 'test', 'fixtures', 'make-ods-sd-set.sh'), raw, theirs]);
    before = snapshot(theirs);
  });
  afterAll(async () => {
    expect(await loopDevicesLeft(join(dir, 'raw.img'))).toEqual([]);
    removeScratch();
  });

  it('their set is what their script writes: a loop device dump, restore.sh, no manifest', () => {
    expect(Object.keys(before)).toEqual([
      'partition-table.dump',
      'restore.sh',
      'sdc1-boot.partclone.gz',
      'sdc2-root.partclone.gz',
    ]);
    expect(readFileSync(join(theirs, 'partition-table.dump'), 'utf8')).toMatch(/\n\/dev\/loop\d+p1 : start=/);
  });

  it('list shows it with where it lives, not checked yet', async () => {
    const r = await run(['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.elsewhere).toEqual([
      expect.objectContaining({
        name: NAME,
        path: theirs,
        place: { kind: 'ods-sd', path: join(home, 'Documents', 'GitHub', 'ods-player-os-atlas', 'clones') },
        missing: [],
        checked: false,
      }),
    ]);
  });

  it('restore by their name checks the set first, records its manifest in the library, and writes the card', async () => {
    const card = emptyCard(join(dir, 'card.img'), statSync(source).size);
    const r = await run(['restore', card, NAME, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.set).toBe(theirs);
    expect(e2fsckClean(card).code).toBe(0);
    expect(rootChecksums(card)).toEqual(rootChecksums(source));
    const records = readdirSync(join(lib, '.elsewhere')).filter((f) => f.endsWith('.manifest.json'));
    expect(records).toHaveLength(1);
    const m = JSON.parse(readFileSync(join(lib, '.elsewhere', records[0]!), 'utf8'));
    expect(m.source.path).toBe(theirs);
    expect(m.notes).toContain('checked: partition table, partclone headers, partclone.chkimg');
    expect(m.files.find((f: { name: string }) => f.name === 'sdc2-root.partclone.gz').sha256).toBe(
      sha256(join(theirs, 'sdc2-root.partclone.gz')),
    );
    expect(snapshot(theirs)).toEqual(before);
    expect((await run(['list'])).json.result.elsewhere[0].checked).toBe(true);
  });

  it('a set whose image is no partclone image is refused before the card is touched', async () => {
    const bad = join(dir, 'other', 'broken-set');
    mkdirSync(bad, { recursive: true });
    cpSync(theirs, bad, { recursive: true });
    writeFileSync(join(bad, 'sdc1-boot.partclone.gz'), gzipSync(Buffer.alloc(4096, 7)));
    expect((await run(['places', '--add', join(dir, 'other')])).code).toBe(0);
    const card = emptyCard(join(dir, 'card2.img'), statSync(source).size);
    const r = await run(['restore', card, 'broken-set', '--yes']);
    expect(r.code).not.toBe(0);
    expect(r.json.error?.message).toBe(
      `${join(bad, 'sdc1-boot.partclone.gz')} is not a partclone image (no partclone header)`,
    );
    expect(execFileSync('cmp', ['-n', '1048576', card, '/dev/zero']).length).toBe(0);
  });

  it('adopt copies it into the library under the seed naming, with checksums; theirs is left as it was', async () => {
    const r = await run(['adopt', NAME, 'v8-1-0-FEATURE']);
    expect(r.code, r.stderr).toBe(0);
    const set = join(lib, 'golden-clone-v8-1-0-FEATURE');
    expect(readdirSync(set).sort()).toEqual([
      'manifest.json',
      'partition-table.dump',
      'restore_golden.sh',
      'sdc1-boot.partclone.gz',
      'sdc2-root.partclone.gz',
    ]);
    const m = JSON.parse(readFileSync(join(set, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({
      kind: 'clone-set',
      name: 'golden-clone-v8-1-0-FEATURE',
      version: '8.1.0',
      tag: 'FEATURE',
    });
    for (const f of ['partition-table.dump', 'sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz']) {
      expect(sha256(join(set, f))).toBe(sha256(join(theirs, f)));
      expect(m.files.find((x: { name: string }) => x.name === f).sha256).toBe(sha256(join(set, f)));
    }
    expect(snapshot(theirs)).toEqual(before);
    // The library lists it as its own; adopting it again is refused.
    const list = (await run(['list'])).json.result;
    expect(list.entries.map((e: { name: string }) => e.name)).toContain('golden-clone-v8-1-0-FEATURE');
    expect((await run(['adopt', NAME, 'v8-1-0-FEATURE'])).json.error?.code).toBe('exists');
  });

  it('clone CARD without a name makes golden-clone-clone-YYYYMMDD_HHMMSS, as ods-sd names it', async () => {
    const r = await run(['clone', source]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.dir).toMatch(/\/golden-clone-clone-\d{8}_\d{6}$/);
    expect(existsSync(join(r.json.result.dir, 'manifest.json'))).toBe(true);
  });
});
