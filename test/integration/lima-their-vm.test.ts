// An atlas-build VM made from the user's own tools/atlas-build.yaml (test/fixtures/lima/
// ods-sd-atlas-build.yaml, in the limactl double): the doctor says it is not ours and what differs
// (image, mounts, readiness probe), and offers to upgrade it in place or recreate it; the upgrade
// installs the missing tools in the guest and shares the library only while the VM is stopped; the
// VM is never deleted. The guest's apt-get is a recorder (this box must not install packages).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../helpers/fixtures.js';
import { startJob, type JobContext } from '../../src-main/core/jobs/job.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import { runDoctor } from '../../src-main/core/lima/doctor.js';
import { vmUpgrade } from '../../src-main/core/lima/vm-upgrade.js';
import { cliHint } from '../../src-main/cli/next-steps.js';

const DOUBLES = join(ROOT, 'test', 'doubles', 'bin');
const KEYS = ['PATH', 'HOME', 'LIMA_HOME', 'ATLAS_LIMACTL', 'LIMACTL_DOUBLE_GUEST_BIN'] as const;
const saved: Partial<Record<(typeof KEYS)[number], string>> = {};

function run<T>(fn: (ctx: JobContext) => Promise<T>): Promise<T> {
  return startJob('test', fn).promise;
}

describe("the user's own atlas-build VM", () => {
  let dir: string;
  let home: string;
  let library: string;
  let limaHome: string;
  let aptLog: string;
  let lima: Limactl;

  beforeAll(async () => {
    for (const k of KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
    dir = scratch('their-vm');
    home = join(dir, 'home');
    library = join(home, 'atlas-build');
    for (const d of ['Documents/GitHub', 'Desktop', 'atlas-build'])
      mkdirSync(join(home, d), { recursive: true });
    mkdirSync('/tmp/lima-sd-work', { recursive: true });
    limaHome = mkdtempSync('/tmp/alh-');
    const stubs = join(dir, 'guest-bin');
    mkdirSync(stubs);
    aptLog = join(dir, 'apt-get.log');
    writeFileSync(join(stubs, 'apt-get'), `#!/bin/sh\necho "$*" >> '${aptLog}'\n`);
    chmodSync(join(stubs, 'apt-get'), 0o755);
    // The guest's package list as their template leaves it: Ubuntu without the tools it never
    // installed (whatever this box happens to have).
    writeFileSync(
      join(stubs, 'dpkg-query'),
      [
        '#!/bin/sh',
        'for a in "$@"; do',
        '  case "$a" in',
        '    -*) ;;',
        '    mtools|zerofree|zstd|bmap-tools|nbd-client|socat|isal) echo "$a not-installed" ;;',
        '    *) echo "$a installed" ;;',
        '  esac',
        'done',
        '',
      ].join('\n'),
    );
    chmodSync(join(stubs, 'dpkg-query'), 0o755);
    process.env.PATH = `${DOUBLES}:${process.env.PATH}`;
    process.env.LIMACTL_DOUBLE_GUEST_BIN = stubs;
    process.env.HOME = home;
    process.env.LIMA_HOME = limaHome;
    delete process.env.ATLAS_LIMACTL;
    lima = Limactl.locate();
    expect(lima.path).toBe(join(DOUBLES, 'limactl'));
    // As their README says: limactl create --name=atlas-build tools/atlas-build.yaml, then start.
    await lima.create('atlas-build', join(ROOT, 'test', 'fixtures', 'lima', 'ods-sd-atlas-build.yaml'));
    await run((ctx) => lima.start('atlas-build', ctx));
  });

  afterAll(async () => {
    await lima?.delete('atlas-build', { force: true }).catch(() => undefined);
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(limaHome, { recursive: true, force: true });
  });

  it('the doctor says it was not made from our template, what differs, and offers upgrade or recreate', async () => {
    const report = await run((ctx) => runDoctor({ library, limactl: lima, minFreeBytes: 1e6 }, ctx));
    const check = report.checks.find((c) => c.id === 'vm-template')!;
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(
      'image: ubuntu-24.04-server-cloudimg-arm64.img, ubuntu-24.04-server-cloudimg-amd64.img (ours: Debian 12',
    );
    expect(check.detail).toContain(
      `mounts: ${home}/Documents/GitHub (writable), ${home}/Desktop (writable), /tmp/lima-sd-work (writable) (ours: the work folder`,
    );
    expect(check.detail).toContain('probe: no readiness probe');
    expect(check.next).toEqual([
      { do: 'vm-upgrade', instance: 'atlas-build' },
      { do: 'vm-recreate', instance: 'atlas-build' },
    ]);
    expect(cliHint(check)).toContain('ods-sd vm upgrade');
    expect(report.ok).toBe(false);
  });

  it('upgrading while it runs installs the missing tools and explains why the mount must wait', async () => {
    const r = await run((ctx) => vmUpgrade(lima, { library }, ctx));
    expect(r.distro).toBe('debian'); // the double's guest is this box
    expect(r.installed).toEqual(
      expect.arrayContaining(['mtools', 'zerofree', 'zstd', 'nbd-client', 'socat']),
    );
    const apt = readFileSync(aptLog, 'utf8');
    expect(apt).toContain('update -qq');
    expect(apt).toContain(`install -y --no-install-recommends ${r.installed.join(' ')}`);
    expect(r.mount.state).toBe('not-now');
    expect(r.mount.detail).toContain('a mount cannot be added to a running VM');
    expect((await lima.status('atlas-build')).state).toBe('Running');
  });

  it('stopped, the upgrade shares the library with limactl edit; the VM is kept', async () => {
    await lima.stop('atlas-build');
    const r = await run((ctx) => vmUpgrade(lima, { library }, ctx));
    expect(r.mount.state).toBe('added');
    const y = load(readFileSync(join(limaHome, 'atlas-build', 'lima.yaml'), 'utf8')) as {
      mounts: Array<{ location: string; writable?: boolean }>;
      param: Record<string, string>;
      images: unknown[];
    };
    expect(y.param.WORKDIR).toBe(library);
    expect(y.mounts.map((m) => m.location)).toEqual([
      '~/Documents/GitHub',
      '~/Desktop',
      '/tmp/lima-sd-work',
      library,
    ]);
    expect(y.images).toHaveLength(2);
    const again = await run((ctx) => vmUpgrade(lima, { library }, ctx));
    expect(again.mount.state).toBe('already');
    expect(again.differences.map((d) => d.what)).toEqual(['image', 'probe']);
    expect(existsSync(join(limaHome, 'atlas-build'))).toBe(true);
  });
});
