/**
 * Was the VM made from Atlas Imager's template (lima/atlas-build.yaml)? A VM of the same name made
 * from the user's own tools/atlas-build.yaml (Ubuntu 24.04, their home folders and
 * /tmp/lima-sd-work shared, no readiness probe, fewer tools) is reused otherwise as if it were
 * ours. What differs is read from the instance's own configuration as `limactl list --json`
 * reports it, and said exactly.
 */
import type { LimaInstance } from './limactl.js';
import { sharedFolders } from './shared-folders.js';
import type { TemplateDifference } from '../../common/results.js';

export { type TemplateDifference } from '../../common/results.js';

interface ImageConfig {
  location?: unknown;
}

function imageName(location: string): string {
  return location.split('/').at(-1) ?? location;
}

/** Differences from our template; none for a VM made from it. */
export function templateDifferences(instance: LimaInstance, home?: string): TemplateDifference[] {
  const config = instance.config ?? {};
  const out: TemplateDifference[] = [];
  const images = (Array.isArray(config.images) ? (config.images as ImageConfig[]) : [])
    .map((i) => (typeof i.location === 'string' ? i.location : ''))
    .filter(Boolean);
  if (!images.some((l) => /debian-12/.test(l))) {
    out.push({
      what: 'image',
      theirs: images.length ? [...new Set(images.map(imageName))].join(', ') : 'not reported',
      ours: 'Debian 12 (bookworm) genericcloud',
    });
  }
  const workdir = config.param?.WORKDIR ?? instance.param?.WORKDIR;
  const folders = sharedFolders(instance, home);
  const work = workdir ? folders.find((f) => f.host === workdir) : undefined;
  if (!work?.writable) {
    out.push({
      what: 'mounts',
      theirs: folders.length
        ? folders.map((f) => `${f.host} (${f.writable ? 'writable' : 'read-only'})`).join(', ')
        : 'none',
      ours: 'the work folder (the library, param WORKDIR) writable at the same path, and ~ read-only',
    });
  }
  const probes = Array.isArray(config.probes) ? config.probes : [];
  if (probes.length === 0) {
    out.push({
      what: 'probe',
      theirs: 'no readiness probe: the VM counts as ready before its tools are installed',
      ours: 'a readiness probe that waits until every disk tool is installed',
    });
  }
  return out;
}

/** The disk tools our template installs, as Debian and Ubuntu name their packages. */
export const TEMPLATE_PACKAGES = [
  'partclone',
  'pigz',
  'dosfstools',
  'mtools',
  'fdisk',
  'parted',
  'e2fsprogs',
  'zerofree',
  'xz-utils',
  'zstd',
  'bmap-tools',
  'util-linux',
  'mount',
  'openssl',
  'coreutils',
  'findutils',
  'kmod',
  'nbd-client',
  'socat',
  'perl-base',
] as const;
