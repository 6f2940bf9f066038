// Checks lima/atlas-build.yaml, the Lima template of the macOS build VM, without limactl.
//
// The rules come from github.com/lima-vm/lima, read at v1.0.0 and at 183a60d7 (v2.2.0-153):
//   - field names and enum values: pkg/limayaml/limayaml.go (v1.0.0), pkg/limatype/lima_yaml.go (2.x),
//     recorded in test/fixtures/lima/lima-template-schema.json (see the README.md beside it);
//   - validation: pkg/limayaml/validate.go (arch, memory/disk via go-units RAMInBytes, mounts, provision
//     modes, probes must start with "#!", param names, digests through go-digest);
//   - templating: pkg/limayaml/defaults.go runs mount locations/mount points, provision scripts and probe
//     scripts through text/template with {{.Param.KEY}} (and {{.Name}} etc. for guest templates).
// The template must work on Lima 1.x and 2.x, so only fields known to both versions are accepted.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// js-yaml is already in node_modules (through eslint); it ships no types, so its API is typed here.
// @ts-expect-error -- no declaration file for js-yaml
import { load as untypedLoad } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const loadYaml = untypedLoad as (text: string) => unknown;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEMPLATE_PATH = join(ROOT, 'lima', 'atlas-build.yaml');
const SCRIPTS_DIR = join(ROOT, 'lima', 'scripts');
const SCHEMA_PATH = join(ROOT, 'test', 'fixtures', 'lima', 'lima-template-schema.json');

interface LimaFields {
  topLevel: string[];
  image: string[];
  mount: string[];
  provision: string[];
  probe: string[];
  containerd: string[];
  arch: string[];
  vmType: string[];
  mountType: string[];
  provisionMode: string[];
  probeMode: string[];
}
interface Schema {
  versions: Record<string, LimaFields>;
  validate: {
    reservedMountPoints: string[];
    paramNamePattern: string;
    probeScriptPrefix: string;
    digestAlgorithms: Record<string, number>;
  };
}

type Obj = Record<string, unknown>;

const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Schema;
const versions = Object.values(schema.versions);
/** Values that every recorded Lima version knows. */
function known(key: keyof LimaFields): string[] {
  const [first, ...rest] = versions;
  if (!first) throw new Error('no Lima version in the schema fixture');
  return first[key].filter((v) => rest.every((r) => r[key].includes(v)));
}

const templateText = readFileSync(TEMPLATE_PATH, 'utf8');
const template = loadYaml(templateText) as Obj;

const asObj = (v: unknown, what: string): Obj => {
  expect(v, `${what} must be a mapping`).toBeTypeOf('object');
  expect(Array.isArray(v), `${what} must be a mapping, not a list`).toBe(false);
  return v as Obj;
};
const asList = (v: unknown, what: string): Obj[] => {
  expect(Array.isArray(v), `${what} must be a list`).toBe(true);
  return (v as unknown[]).map((e, i) => asObj(e, `${what}[${i}]`));
};
const asString = (v: unknown, what: string): string => {
  expect(v, `${what} must be a string`).toBeTypeOf('string');
  return v as string;
};
const expectKnownKeys = (o: Obj, allowed: string[], what: string): void => {
  const unknownKeys = Object.keys(o).filter((k) => !allowed.includes(k));
  expect(unknownKeys, `${what}: fields Lima 1.x/2.x does not know`).toEqual([]);
};

const param = (template.param ?? {}) as Record<string, string>;
/** Expands the template variables the way Lima's host/guest templates would, for path checks. */
function expand(s: string): string {
  return s
    .replace(/\{\{\s*\.Param\.(\w+)\s*\}\}/g, (_m, k: string) => {
      const v = param[k];
      if (v === undefined) throw new Error(`{{.Param.${k}}} used but param.${k} is not set`);
      return v;
    })
    .replace(/\{\{\s*\.Home\s*\}\}/g, '/Users/someone');
}

const provisions = asList(template.provision, 'provision');
const systemScript = asString(provisions.find((p) => p.mode === 'system')?.script, 'provision system script');
const probes = asList(template.probes, 'probes');
const readiness = probes.find((p) => p.mode === 'readiness') ?? {};
const probeScript = asString(readiness.script, 'readiness probe script');
const probeHint = asString(readiness.hint, 'readiness probe hint');

const words = (s: string): string[] => s.replace(/\\\n/g, ' ').trim().split(/\s+/).filter(Boolean);

/** The packages in the provision script's ATLAS_PACKAGES=( ... ) array. */
function provisionPackages(): string[] {
  const m = systemScript.match(/ATLAS_PACKAGES=\(([^)]*)\)/);
  if (!m?.[1]) throw new Error('the provision script has no ATLAS_PACKAGES=( ... ) array');
  return words(m[1]);
}
/** The tools in the readiness probe's `for t in ...; do` loop. */
function probeTools(): string[] {
  const m = probeScript.match(/for t in ([\s\S]*?); do/);
  if (!m?.[1]) throw new Error('the readiness probe has no `for t in ...; do` loop');
  return words(m[1]);
}
/** The package names after the first `apt-get install -y` in a text. */
function installCommandPackages(text: string, what: string): string[] {
  const m = text.match(/apt-get install -y ([^\n"]+)/);
  if (!m?.[1]) throw new Error(`${what} has no "apt-get install -y PACKAGES" command`);
  return words(m[1]);
}

// Tool -> Debian package (checked on Debian 12 with `dpkg -S`). Every tool the builder scripts check for
// must be here: add new tools to this table, to ATLAS_PACKAGES in the provision script, and to the probe.
const TOOL_PACKAGES: Record<string, string> = {
  perl: 'perl-base',
  'partclone.fat32': 'partclone',
  'partclone.vfat': 'partclone',
  'partclone.ext4': 'partclone',
  'partclone.chkimg': 'partclone',
  'partclone.restore': 'partclone',
  pigz: 'pigz',
  igzip: 'isal',
  sfdisk: 'fdisk', // Debian 12+: sfdisk is in "fdisk", split out of util-linux
  fdisk: 'fdisk',
  partx: 'util-linux',
  blkid: 'util-linux',
  blockdev: 'util-linux',
  losetup: 'mount', // Debian 12: /sbin/losetup belongs to "mount"
  mount: 'mount',
  umount: 'mount',
  parted: 'parted',
  e2fsck: 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  debugfs: 'e2fsprogs',
  'mkfs.vfat': 'dosfstools',
  'fsck.vfat': 'dosfstools',
  'fsck.fat': 'dosfstools',
  mtype: 'mtools',
  mcopy: 'mtools',
  mdir: 'mtools',
  minfo: 'mtools',
  xz: 'xz-utils',
  zstd: 'zstd',
  zerofree: 'zerofree',
  bmaptool: 'bmap-tools',
  openssl: 'openssl',
  find: 'findutils',
  stat: 'coreutils',
  base64: 'coreutils',
  install: 'coreutils',
  truncate: 'coreutils',
  sync: 'coreutils',
  timeout: 'coreutils',
  setpriv: 'util-linux',
  flock: 'util-linux',
  setsid: 'util-linux',
  modprobe: 'kmod',
  'nbd-client': 'nbd-client',
  socat: 'socat',
  fallocate: 'util-linux',
  dd: 'coreutils',
};

/** Tools the builder scripts check for before use. */
function scriptTools(): Map<string, string> {
  const found = new Map<string, string>(); // tool -> first script that needs it
  const add = (tool: string, file: string): void => {
    if (!/^[\w.+-]+$/.test(tool)) return; // "$t", "$1": variables, handled by the loops below
    if (!found.has(tool)) found.set(tool, file);
  };
  const files = readdirSync(SCRIPTS_DIR)
    .filter((f) => f.endsWith('.sh'))
    .sort();
  for (const file of files) {
    const text = readFileSync(join(SCRIPTS_DIR, file), 'utf8');
    // atlas_require_tools a b c   (not the function definition `atlas_require_tools() {`)
    for (const m of text.matchAll(/^\s*atlas_require_tools[ \t]+([^\n#]+)/gm)) {
      for (const t of words(m[1] ?? '')) add(t, file);
    }
    // command -v NAME
    for (const m of text.matchAll(/command -v ([\w.+-]+)/g)) add(m[1] ?? '', file);
    // for t in a b c; do command -v "$t" ...
    for (const m of text.matchAll(/for (\w+) in ([^;\n]+); do\s+command -v "\$\{?\1\}?"/g)) {
      for (const t of words(m[2] ?? '')) add(t, file);
    }
    // tool_versions.sh: a helper `v NAME COMMAND...` that checks `command -v "$1"`
    if (/^v\(\) \{[^}]*command -v "\$1"/m.test(text)) {
      for (const m of text.matchAll(/^v[ \t]+\S+[ \t]+(\S+)/gm)) add(m[1] ?? '', file);
    }
  }
  return found;
}

describe('lima/atlas-build.yaml: Lima template format', () => {
  it('uses only top-level fields that Lima 1.x and 2.x know', () => {
    expectKnownKeys(template, known('topLevel'), 'top level');
  });

  it('needs Lima >= 1.0 (param in mounts) and runs on Virtualization.framework', () => {
    expect(template.minimumLimaVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(template.vmType).toBe('vz');
    expect(known('vmType')).toContain(template.vmType);
    expect(template.rosetta).toBeUndefined();
  });

  it('asks for modest resources with valid types and units', () => {
    expect(Number.isInteger(template.cpus)).toBe(true);
    // Lima's own default: the distributable's compression uses them all (npm run bench:threads).
    expect(template.cpus).toBe(4);
    // go-units RAMInBytes: a number and an optional k/m/g/t/p unit, optional "i" and "b".
    const ram = /^\d+(\.\d+)? ?[kKmMgGtTpP]?[iI]?[bB]?$/;
    expect(asString(template.memory, 'memory')).toMatch(ram);
    expect(asString(template.disk, 'disk')).toMatch(ram);
    expect(template.memory).toBe('2GiB');
    expect(template.disk).toBe('20GiB');
  });

  it('pins a Debian genericcloud image per Mac architecture, with an unpinned fallback after it', () => {
    const images = asList(template.images, 'images');
    const algos = schema.validate.digestAlgorithms;
    images.forEach((img, i) => {
      expectKnownKeys(img, known('image'), `images[${i}]`);
      const location = asString(img.location, `images[${i}].location`);
      expect(location).toMatch(/^https:\/\/cloud\.debian\.org\/images\/cloud\/(bookworm|trixie)\//);
      expect(location).toMatch(/genericcloud-(amd64|arm64)/);
      expect(location.includes('arm64') ? 'aarch64' : 'x86_64').toBe(img.arch);
      expect(known('arch')).toContain(img.arch);
      if (img.digest !== undefined) {
        const [algo, hex] = asString(img.digest, `images[${i}].digest`).split(':');
        expect(Object.keys(algos), `images[${i}].digest algorithm`).toContain(algo);
        expect(hex).toMatch(new RegExp(`^[a-f0-9]{${algos[algo ?? ''] ?? 0}}$`));
      }
    });
    for (const arch of ['aarch64', 'x86_64']) {
      const forArch = images.filter((img) => img.arch === arch);
      const pinned = forArch.findIndex((img) => asString(img.digest ?? '', 'digest').startsWith('sha512:'));
      const fallback = forArch.findIndex((img) => img.digest === undefined);
      expect(pinned, `${arch}: an image pinned with a sha512 digest`).toBeGreaterThanOrEqual(0);
      expect(fallback, `${arch}: a fallback image without digest`).toBeGreaterThan(pinned);
    }
  });

  it('mounts the work dir writable with virtiofs and the home read-only', () => {
    expect(template.mountType).toBe('virtiofs');
    expect(known('mountType')).toContain(template.mountType);
    const nameRe = new RegExp(schema.validate.paramNamePattern);
    for (const [k, v] of Object.entries(param)) {
      expect(k).toMatch(nameRe);
      expect(v).toBeTypeOf('string');
    }
    expect(param.WORKDIR).toBe('/tmp/lima-sd-work');

    const mounts = asList(template.mounts, 'mounts');
    mounts.forEach((m, i) => {
      expectKnownKeys(m, known('mount'), `mounts[${i}]`);
      const location = expand(asString(m.location, `mounts[${i}].location`));
      expect(location === '~' || location.startsWith('~/') || location.startsWith('/'), location).toBe(true);
      if (m.mountPoint !== undefined) {
        const point = expand(asString(m.mountPoint, `mounts[${i}].mountPoint`));
        expect(point.startsWith('/'), `mounts[${i}].mountPoint must be absolute (no ~)`).toBe(true);
        expect(schema.validate.reservedMountPoints).not.toContain(point);
      }
      if (m.writable !== undefined) expect(m.writable).toBeTypeOf('boolean');
    });
    const work = mounts.find((m) => m.location === '{{.Param.WORKDIR}}');
    expect(work, 'a mount of {{.Param.WORKDIR}}').toBeDefined();
    expect(work?.writable).toBe(true);
    const home = mounts.find((m) => m.location === '~');
    expect(home, 'a mount of ~').toBeDefined();
    expect(home?.writable).toBe(false);
  });

  it('mounts the work dir where no folder mounted after it covers it (the library may lie in ~)', () => {
    // Lima mounts in template order (pkg/cidata/cidata.go), so a later mount over a parent of the
    // work dir's guest path hides it. The work dir may be anywhere on the host (by default
    // ~/atlas-build), so its guest path must not depend on the host path.
    const mounts = asList(template.mounts, 'mounts');
    const i = mounts.findIndex((m) => m.location === '{{.Param.WORKDIR}}');
    const point = String(mounts[i]?.mountPoint ?? '');
    expect(point, 'a fixed guest path for the work dir').toMatch(/^\/[^{~]*$/);
    const guestOf = (m: (typeof mounts)[number]): string =>
      String(m.mountPoint ?? m.location).replace(/^~(?=\/|$)/, '/Users/pi');
    for (const later of mounts.slice(i + 1)) {
      const g = guestOf(later);
      expect(point === g || point.startsWith(`${g}/`), `${point} would be covered by ${g}`).toBe(false);
    }
  });

  it('uses every param (Lima refuses unused ones)', () => {
    for (const key of Object.keys(param)) {
      expect(templateText).toMatch(new RegExp(`\\{\\{[^}]*\\.Param\\.${key}[^}]*\\}\\}|\\bPARAM_${key}\\b`));
    }
  });

  it('runs no containerd', () => {
    const c = asObj(template.containerd, 'containerd');
    expectKnownKeys(c, known('containerd'), 'containerd');
    expect(c.system).toBe(false);
    expect(c.user).toBe(false);
  });

  it('has valid provision entries and an idempotent system script', () => {
    provisions.forEach((p, i) => {
      expectKnownKeys(p, known('provision'), `provision[${i}]`);
      expect(known('provisionMode')).toContain(p.mode);
      const script = asString(p.script, `provision[${i}].script`);
      expect(script, 'Lima warns about LIMA_CIDATA in provision scripts').not.toContain('LIMA_CIDATA');
    });
    expect(systemScript.startsWith('#!/bin/bash\n')).toBe(true);
    expect(systemScript).toContain('set -eux -o pipefail');
    expect(systemScript).toContain('DEBIAN_FRONTEND=noninteractive');
    // apt-get runs only inside the "something is missing" branch.
    const guard = systemScript.indexOf('if [ "${#missing[@]}" -gt 0 ]; then');
    const fi = systemScript.indexOf('\nfi', guard);
    expect(guard).toBeGreaterThan(0);
    for (const m of systemScript.matchAll(/apt-get /g)) {
      expect(m.index).toBeGreaterThan(guard);
      expect(m.index).toBeLessThan(fi);
    }
    expect(systemScript).toMatch(
      /apt-get [^\n]*install -y --no-install-recommends "\$\{ATLAS_PACKAGES\[@\]\}"/,
    );
    expect(systemScript).toMatch(/install -d -o root -g root -m 0700 \/var\/lib\/atlas-build/);
  });

  it('has a readiness probe with a hint', () => {
    probes.forEach((p, i) => {
      expectKnownKeys(p, known('probe'), `probes[${i}]`);
      expect(known('probeMode')).toContain(p.mode);
      expect(asString(p.script, `probes[${i}].script`).startsWith(schema.validate.probeScriptPrefix)).toBe(
        true,
      );
    });
    expect(readiness.mode).toBe('readiness');
    expect(probeScript).toMatch(/export PATH="\$PATH:[^"]*\/usr\/sbin/); // the probe runs as the user
    expect(probeScript).toMatch(/echo >&2 "missing: /);
    expect(probeScript).toContain('exit 1');
    expect(probeHint).toContain('limactl shell atlas-build sudo apt-get install');
  });

  it('keeps Go template markers out of the scripts, except Lima variables', () => {
    for (const script of [systemScript, probeScript]) {
      for (const m of script.matchAll(/\{\{([^}]*)\}\}/g)) {
        expect(m[1]).toMatch(/^\s*\.(Name|Hostname|UID|User|Home|Param\.\w+)\s*$/);
      }
      expect(script.replace(/\{\{[^}]*\}\}/g, '')).not.toMatch(/\{\{|\}\}/);
    }
  });
});

describe('lima/atlas-build.yaml: tools of the builder scripts', () => {
  const tools = scriptTools();
  const packages = provisionPackages();
  const probed = probeTools();

  it('finds the tools in lima/scripts/*.sh', () => {
    expect(tools.size).toBeGreaterThan(10);
    for (const t of [
      'sfdisk',
      'partclone.ext4',
      'pigz',
      'e2fsck',
      'resize2fs',
      'mtype',
      'openssl',
      'fsck.fat',
      'setpriv',
    ]) {
      expect([...tools.keys()]).toContain(t);
    }
  });

  it('knows the Debian package of every tool the scripts check for', () => {
    const unmapped = [...tools].filter(([t]) => !(t in TOOL_PACKAGES)).map(([t, file]) => `${t} (${file})`);
    expect(
      unmapped,
      'tools with no Debian package in TOOL_PACKAGES (test/unit/lima-template.test.ts): add them there, ' +
        'to ATLAS_PACKAGES in lima/atlas-build.yaml and to its readiness probe',
    ).toEqual([]);
  });

  it('installs a package for every tool', () => {
    for (const [tool, file] of tools) {
      const pkg = TOOL_PACKAGES[tool];
      if (pkg === undefined) continue; // reported above
      expect(packages, `${tool} (${file}) needs the Debian package ${pkg}`).toContain(pkg);
    }
    for (const pkg of [
      'partclone',
      'pigz',
      'dosfstools',
      'mtools',
      'fdisk',
      'parted',
      'e2fsprogs',
      'zerofree',
    ]) {
      expect(packages).toContain(pkg);
    }
    for (const pkg of ['xz-utils', 'zstd', 'bmap-tools', 'util-linux', 'openssl', 'coreutils', 'findutils']) {
      expect(packages).toContain(pkg);
    }
  });

  it('checks every tool in the readiness probe', () => {
    for (const [tool, file] of tools) {
      expect(probed, `the readiness probe must check ${tool} (used by ${file})`).toContain(tool);
    }
    for (const tool of probed) {
      expect(Object.keys(TOOL_PACKAGES), `probe tool ${tool} has no package in TOOL_PACKAGES`).toContain(
        tool,
      );
      expect(packages, `probe tool ${tool}: its package is not installed`).toContain(TOOL_PACKAGES[tool]);
    }
  });

  it('tells the user the same install command in the probe output and in the hint', () => {
    const sorted = [...packages].sort();
    expect([...installCommandPackages(probeScript, 'the probe')].sort()).toEqual(sorted);
    expect([...installCommandPackages(probeHint, 'the hint')].sort()).toEqual(sorted);
  });
});
