// compress_image.sh, the builder's compression of a shrunk image into its distributable (a Mac has
// neither xz nor zstd): run for real with the real xz and zstd. The image is read once and both
// checksums come from the streams as they pass, so they must be those sha256sum finds in the
// files; a compressed file that could not be written whole (a full disk, a real tmpfs here) fails
// the script and is never reported with checksums.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';

const SCRIPT = join(ROOT, 'lima', 'scripts', 'compress_image.sh');
const dir = mkdtempSync(join(tmpdir(), 'compress-image-'));
const full = join(dir, 'full');
afterAll(() => {
  spawnSync('umount', [full]);
  rmSync(dir, { recursive: true, force: true });
});

const sha256sum = (f: string) => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];

/** An image-like file: 3 MiB of random bytes, 2 MiB of zeros, 1 MiB of text. */
function image(name: string): string {
  const f = join(dir, name);
  const text = Buffer.from('ods atlas player os\n'.repeat(52429)).subarray(0, 1024 * 1024);
  writeFileSync(f, Buffer.concat([randomBytes(3 * 1024 * 1024), Buffer.alloc(2 * 1024 * 1024), text]));
  return f;
}

function compress(img: string, out: string, kind: string, env: NodeJS.ProcessEnv = process.env) {
  writeFileSync(out, '', { mode: 0o600 });
  // The script's stdout is also its background jobs': spawnSync returns once they have all ended,
  // so a job left running (a hashing or copying one after a failure) shows as the timeout.
  const r = spawnSync('bash', [SCRIPT, img, out, kind], { encoding: 'utf8', timeout: 50_000, env });
  expect(r.signal).toBeNull();
  const results = new Map<string, string>();
  for (const m of r.stdout.matchAll(/^@@ATLAS result (\S+) (.*)$/gm)) results.set(m[1]!, m[2]!);
  const progress = [...r.stdout.matchAll(/^@@ATLAS progress (\d+) (\d+)$/gm)].map((m) => Number(m[1]));
  return { ...r, results, progress };
}

describe('compress_image.sh', () => {
  it.each([
    ['zst', ['zstd', '-dcq']],
    ['xz', ['xz', '-dc']],
  ])('%s: the checksums of the image and of the file it wrote, from one read', (kind, decode) => {
    const img = image(`a-${kind}.img`);
    const out = join(dir, `a.img.${kind}`);
    const r = compress(img, out, kind);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.results.get('image-bytes')).toBe(String(statSync(img).size));
    expect(r.results.get('image-sha256')).toBe(sha256sum(img));
    expect(r.results.get('out-bytes')).toBe(String(statSync(out).size));
    expect(r.results.get('out-sha256')).toBe(sha256sum(out));
    const plain = join(dir, `a-${kind}.decoded`);
    execFileSync('bash', ['-c', 'f=$1 o=$2; shift 2; "$@" -- "$f" > "$o"', 'decode', out, plain, ...decode]);
    expect(sha256sum(plain)).toBe(sha256sum(img));
    expect(r.progress.at(-1)).toBe(statSync(img).size);
    expect(r.stdout).not.toContain('Computing the checksums');
  });

  it("hashes with sha256sum in a VM without openssl (a VM of the user's own)", () => {
    // The guest's tools, every one but openssl.
    const bin = join(dir, 'no-openssl-bin');
    mkdirSync(bin);
    for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
      for (const name of readdirSync(d)) {
        if (name === 'openssl' || existsSync(join(bin, name))) continue;
        symlinkSync(join(d, name), join(bin, name));
      }
    }
    const img = image('c.img');
    const out = join(dir, 'c.img.zst');
    const r = compress(img, out, 'zst', { ...process.env, PATH: bin });
    expect(spawnSync('bash', ['-c', 'command -v openssl'], { env: { PATH: bin } }).status).not.toBe(0);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.results.get('image-sha256')).toBe(sha256sum(img));
    expect(r.results.get('out-sha256')).toBe(sha256sum(out));
  });

  it('fails, with no checksums, when the compressed file does not fit on its disk', () => {
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]);
    const r = compress(image('b.img'), join(full, 'b.img.zst'), 'zst');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(
      /^@@ATLAS fail no-space the compressed image does not fit in .*free some space/m,
    );
    expect(r.stderr).toMatch(/No space left on device/);
    expect(r.results.has('out-sha256')).toBe(false);
    expect(r.results.has('image-sha256')).toBe(false);
  });

  it('an image it cannot open: fails at once, starting nothing that would wait for it', () => {
    // Run as nobody, the image unreadable to it (root reads anything).
    chmodSync(dir, 0o711); // nobody may pass through the test's folder
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const img = image('open/unreadable.img');
    chmodSync(img, 0o000);
    const out = join(open, 'd.img.zst');
    writeFileSync(out, '', { mode: 0o666 });
    chmodSync(out, 0o666);
    // The scripts where nobody can read them, wherever the checkout is.
    for (const f of ['compress_image.sh', 'atlas-common.sh'])
      copyFileSync(join(ROOT, 'lima', 'scripts', f), join(open, f));
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'bash',
        join(open, 'compress_image.sh'),
        img,
        out,
        'zst',
      ],
      {
        encoding: 'utf8',
        timeout: 50_000,
      },
    );
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/^@@ATLAS fail permission cannot read .*unreadable\.img/m);
    expect(r.stdout).not.toContain('@@ATLAS step compress');
  });
});
