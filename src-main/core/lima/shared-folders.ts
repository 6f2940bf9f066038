/**
 * The folders a Lima VM shares with the host (its `mounts`), and the translation of a host path
 * into the path the VM sees it under. `limactl list --json` reports the mounts with templates
 * already expanded; older Lima versions and hand-written configs may still carry `~` and
 * `{{.Param.NAME}}`, so those are expanded here the way Lima does (pkg/limayaml/defaults.go:
 * location is a host template, then `~` is the host home; a missing mountPoint means "same path
 * as on the host"; writable defaults to false).
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { LimaInstance } from './limactl.js';

export interface SharedFolder {
  /** The folder on the host. */
  host: string;
  /** Where the VM sees it. */
  guest: string;
  writable: boolean;
}

const PARAM = /\{\{\s*\.Param\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function expandParams(text: string, params: Record<string, string>): string | undefined {
  let missing = false;
  const out = text.replace(PARAM, (_m, key: string) => {
    const v = params[key];
    if (v === undefined) missing = true;
    return v ?? '';
  });
  return missing || out.includes('{{') ? undefined : out;
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

/** The instance's shared folders; mounts whose paths cannot be worked out are left out. */
export function sharedFolders(instance: LimaInstance, home = homedir()): SharedFolder[] {
  const params = { ...(instance.config?.param ?? {}), ...(instance.param ?? {}) };
  const out: SharedFolder[] = [];
  for (const m of instance.config?.mounts ?? []) {
    const loc = expandParams(m.location, params);
    if (loc === undefined) continue;
    const host = expandHome(loc, home);
    if (!isAbsolute(host)) continue;
    let guest = host;
    if (m.mountPoint) {
      const mp = expandParams(m.mountPoint, params);
      if (mp === undefined || !isAbsolute(mp)) continue;
      guest = mp;
    }
    out.push({ host: resolve(host), guest: resolve(guest), writable: m.writable === true });
  }
  return out;
}

/** The real path of p (symlinks resolved), for the part of it that exists. */
function realPathOf(p: string): string {
  let existing = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(existing), ...rest.reverse());
    } catch {
      const up = dirname(existing);
      if (up === existing) return p;
      rest.push(basename(existing));
      existing = up;
    }
  }
}

function inside(folder: string, p: string): string | undefined {
  const rel = relative(folder, p);
  if (rel === '') return '';
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel;
}

export interface GuestPath {
  guest: string;
  folder: SharedFolder;
}

/**
 * The guest path of a host path, through the shared folder that contains it (the deepest one
 * wins when folders nest, e.g. a writable ~/atlas-build inside a read-only ~). Symlinks are
 * resolved on both sides (on macOS /tmp is /private/tmp). Undefined when no folder contains it.
 * Lima mounts the folders in the order listed (pkg/cidata/cidata.go), so a folder listed later
 * whose guest path covers that guest path is what the VM really sees there: it is the folder
 * returned (a writable ~/atlas-build at its own path, listed before a read-only ~, is read-only).
 */
export function toGuestPath(folders: readonly SharedFolder[], hostPath: string): GuestPath | undefined {
  const wanted = resolve(hostPath);
  const forms = [wanted, realPathOf(wanted)];
  let best: { rel: string; folder: SharedFolder; depth: number } | undefined;
  for (const folder of folders) {
    for (const root of new Set([folder.host, realPathOf(folder.host)])) {
      for (const p of forms) {
        const rel = inside(root, p);
        if (rel === undefined) continue;
        const depth = root.split(sep).length;
        if (!best || depth > best.depth) best = { rel, folder, depth };
      }
    }
  }
  if (!best) return undefined;
  const guest = best.rel === '' ? best.folder.guest : join(best.folder.guest, best.rel);
  const after = folders.slice(folders.indexOf(best.folder) + 1);
  const cover = after.filter((f) => inside(f.guest, guest) !== undefined).at(-1);
  return { guest, folder: cover ?? best.folder };
}
