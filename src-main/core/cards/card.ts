/**
 * A card is either a block device (a real SD card in a reader) or an image file standing in for
 * one. Its identity is captured when the user names it and checked again right before anything
 * is written (target-guards.ts recheckCard, through the card platform), so a card swapped in
 * between is never overwritten. Nothing here asks the card platform: platform/linux.ts identifies
 * a card with identifyCard, and darwin.ts an image file.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AtlasError } from '../errors.js';
import { validatePathArg } from '../validate.js';
import { isSystemMount, type CardIdentity } from './card-types.js';
import { linuxMedium, tableId } from './medium.js';
import { formatBytes } from '../../common/format-bytes.js';
export type { CardIdentity } from './card-types.js';

async function sysfs(name: string, attr: string): Promise<string | undefined> {
  try {
    return (await readFile(`/sys/class/block/${name}/${attr}`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function deviceBytes(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    // Linux: the size of a block device is where a seek to the end lands.
    const { size } = await fh.stat();
    if (size > 0) return size;
    const name = basename(path);
    const sectors = Number(await sysfs(name, 'size'));
    return Number.isFinite(sectors) ? sectors * 512 : 0;
  } finally {
    await fh.close();
  }
}

export async function identifyCard(path: string): Promise<CardIdentity> {
  validatePathArg('card', path);
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new AtlasError(
      'not-found',
      `no such card or image: ${path}`,
      'give a card device (for example /dev/sdc) or an existing image file',
    );
  }
  if (st.isFile()) {
    return { path, kind: 'file', bytes: st.size, node: st.ino };
  }
  if (!st.isBlockDevice()) {
    throw new AtlasError('bad-input', `${path} is neither a block device nor an image file`);
  }
  const name = basename(path);
  const bytes = Number(await sysfs(name, 'size')) * 512 || (await deviceBytes(path));
  const id: CardIdentity = { path, kind: 'device', bytes, node: st.rdev };
  const model = await sysfs(name, 'device/model');
  const serial = (await sysfs(name, 'device/serial')) ?? (await sysfs(name, 'serial'));
  if (model) id.model = model;
  if (serial) id.serial = serial;
  id.removable = (await sysfs(name, 'removable')) === '1';
  id.readOnly = (await sysfs(name, 'ro')) === '1';
  const medium = await linuxMedium(path);
  if (medium) id.medium = medium;
  const table = await tableId(path);
  if (table) id.table = table;
  return id;
}

/** What differs between the card that was picked and the one there now (undefined: the same). */
export function identityChange(expected: CardIdentity, now: CardIdentity): string | undefined {
  for (const k of ['kind', 'node', 'bytes', 'serial', 'model', 'medium'] as const) {
    if (expected[k] !== now[k])
      return `${k} was ${JSON.stringify(expected[k])}, is ${JSON.stringify(now[k])}`;
  }
  // A table id that could not be read when the card was picked is not compared.
  if (expected.table !== undefined && expected.table !== now.table) {
    return `partition table was ${expected.table}, is ${now.table ?? 'unreadable'}`;
  }
  return undefined;
}

/** Mount points of the device and its partitions, from /proc/mounts. */
export async function mountsOf(devicePath: string): Promise<string[]> {
  let text = '';
  try {
    text = await readFile('/proc/mounts', 'utf8');
  } catch {
    return [];
  }
  const name = basename(devicePath);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [src, target] = line.split(' ');
    if (!src || !target) continue;
    const srcName = basename(src);
    if (srcName === name || (srcName.startsWith(name) && /^p?\d+$/.test(srcName.slice(name.length)))) {
      out.push(target.replace(/\\040/g, ' '));
    }
  }
  return out;
}

/**
 * Refuses a target that must never be written: a system disk, a read-only card, or a card too
 * small for `neededBytes`. Called by every phase that writes a card, right before it writes.
 */
export async function assertWritableCard(card: CardIdentity, neededBytes: number): Promise<void> {
  if (card.kind === 'device') {
    const mounts = await mountsOf(card.path);
    const system = mounts.find(isSystemMount);
    if (system) {
      throw new AtlasError(
        'unsafe-target',
        `${card.path} holds the running system (${system} is mounted from it): refusing to write`,
        'pick the SD card reader, not a system disk',
      );
    }
    if (card.readOnly) {
      throw new AtlasError(
        'unsafe-target',
        `${card.path} is read-only`,
        'slide the SD card lock switch to unlocked and insert the card again',
      );
    }
  }
  if (card.bytes < neededBytes) {
    throw new AtlasError(
      'too-small',
      `the card is too small: ${card.path} has ${formatBytes(card.bytes)}, ${formatBytes(neededBytes)} are needed`,
      'use a larger card, or a shrunk ods-atlas-clone image',
    );
  }
}

export function describeCard(card: CardIdentity): string {
  const gb = formatBytes(card.bytes, { unit: 'GB' });
  return card.kind === 'file'
    ? `image file ${card.path} (${gb})`
    : `${card.path} ${[card.model, card.serial].filter(Boolean).join(' ')} (${gb})`.replace(/\s+/g, ' ');
}
