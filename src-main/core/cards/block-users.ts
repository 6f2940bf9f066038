/**
 * Linux: everything that uses a block device, read from the kernel (sysfs, /proc/self/mountinfo,
 * /proc/swaps). The device's "tree" is the device, its partitions, the device-mapper and md
 * devices built on them (sysfs `holders`) and the loop devices attached over any of these (a loop
 * device does not claim its backing device, so an exclusive open alone would not see it). A file
 * system mounted from any node of the tree, or swap on it, uses the card.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';

export interface BlockNode {
  /** `sdc1`, `loop5`, `dm-0`. */
  name: string;
  /** `major:minor`. */
  dev: string;
  /** How it belongs to the card. */
  relation: 'device' | 'partition' | 'holder' | 'loop';
  /** Loop devices: detached on their last close (`mount -o loop`). */
  autoclear?: boolean;
}

export interface BlockMount {
  mountPoint: string;
  source: string;
  /** `major:minor` of the mounted file system. */
  dev: string;
  readOnly: boolean;
}

export interface BlockUsers {
  nodes: BlockNode[];
  /** Every device number of the tree. */
  devs: Set<string>;
  mounts: BlockMount[];
  swaps: string[];
}

const read = (p: string) =>
  readFile(p, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
const sys = (name: string) => `/sys/class/block/${name}`;

/** Linux st_dev / st_rdev → `major:minor` (the kernel's new_encode_dev layout). */
export function devNumber(dev: number): string {
  return `${(dev >> 8) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
}

/** Unescapes the octal escapes of /proc/mounts and mountinfo (`\040` is a space). */
const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

async function blockNames(): Promise<string[]> {
  return readdir('/sys/class/block').catch(() => [] as string[]);
}

/** The device, its partitions, their holders and the loop devices over any of them. */
export async function deviceTree(device: string): Promise<BlockNode[]> {
  const root = basename(device);
  const nodes = new Map<string, BlockNode>();
  const add = async (name: string, relation: BlockNode['relation']): Promise<boolean> => {
    if (nodes.has(name)) return false;
    const dev = await read(`${sys(name)}/dev`);
    if (!dev) return false;
    const node: BlockNode = { name, dev, relation };
    if (name.startsWith('loop')) node.autoclear = (await read(`${sys(name)}/loop/autoclear`)) === '1';
    nodes.set(name, node);
    return true;
  };
  const expand = async (name: string): Promise<void> => {
    const dir = await realpath(sys(name)).catch(() => undefined);
    if (!dir) return;
    for (const entry of await readdir(dir).catch(() => [] as string[])) {
      if (entry.startsWith(name) && (await stat(`${dir}/${entry}/partition`).catch(() => undefined))) {
        if (await add(entry, 'partition')) await expand(entry);
      }
    }
    for (const holder of await readdir(`${dir}/holders`).catch(() => [] as string[])) {
      if (await add(holder, 'holder')) await expand(holder);
    }
  };
  if (!(await add(root, 'device'))) return [];
  await expand(root);
  // Loop devices attached over a node of the tree, until no new one appears.
  const all = await blockNames();
  for (let grew = true; grew;) {
    grew = false;
    const devs = new Set([...nodes.values()].map((n) => n.dev));
    for (const name of all) {
      if (!name.startsWith('loop') || nodes.has(name)) continue;
      const backing = await read(`${sys(name)}/loop/backing_file`);
      if (!backing) continue;
      const st = await stat(backing).catch(() => undefined);
      if (st?.isBlockDevice() && devs.has(devNumber(st.rdev)) && (await add(name, 'loop'))) {
        await expand(name);
        grew = true;
      }
    }
  }
  return [...nodes.values()];
}

/** Mounted file systems, with their device numbers, from /proc/self/mountinfo. */
export async function mountTable(): Promise<BlockMount[]> {
  const text = (await read('/proc/self/mountinfo')) ?? '';
  const out: BlockMount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    const f = left?.split(' ') ?? [];
    const r = right?.split(' ') ?? [];
    if (f.length < 6 || r.length < 2) continue;
    out.push({
      mountPoint: unescape(f[4]!),
      source: unescape(r[1]!),
      dev: f[2]!,
      readOnly: f[5]!.split(',').includes('ro'),
    });
  }
  return out;
}

async function swapDevs(): Promise<Array<{ name: string; dev: string }>> {
  const text = (await read('/proc/swaps')) ?? '';
  const out: Array<{ name: string; dev: string }> = [];
  for (const line of text.split('\n').slice(1)) {
    const name = unescape(line.split(/\s+/)[0] ?? '');
    if (!name) continue;
    const st = await stat(name).catch(() => undefined);
    if (st) out.push({ name, dev: devNumber(st.isBlockDevice() ? st.rdev : st.dev) });
  }
  return out;
}

/** Who uses `device`: its tree, the file systems mounted from it, swap on it. */
export async function blockUsers(device: string): Promise<BlockUsers> {
  const nodes = await deviceTree(device);
  const devs = new Set(nodes.map((n) => n.dev));
  const mounts = (await mountTable()).filter((m) => devs.has(m.dev));
  const swaps = (await swapDevs()).filter((s) => devs.has(s.dev)).map((s) => s.name);
  return { nodes, devs, mounts, swaps };
}

/** The device number of the file system holding `path` (its nearest existing parent). */
export async function fileSystemOf(path: string): Promise<string | undefined> {
  for (let p = path; ;) {
    const st = await stat(p).catch(() => undefined);
    if (st) return devNumber(st.dev);
    const up = p.slice(0, p.lastIndexOf('/')) || '/';
    if (up === p) return undefined;
    p = up;
  }
}
