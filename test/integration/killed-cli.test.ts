// ods-sd killed with -9 in the middle of a restore: nothing it started may go on writing the
// card, and the card's lock is not taken over while anything it started still runs.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, ROOT, scratch } from '../helpers/fixtures.js';
import { detach, loopDevicesFor, sfdiskJson } from '../helpers/disk-tools.js';
import { cardLockDir } from '../../src-main/core/library/job-lock.js';

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  cmd: string;
}

/** Every running process (zombies aside), from /proc. */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(name), ppid: Number(ppid), pgrp: Number(pgrp), state: state!, cmd });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

async function until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ods-sd restore killed with -9', () => {
  let dir: string;
  let lib: string;
  let card: string;

  beforeAll(async () => {
    dir = scratch('killed');
    lib = join(dir, 'atlas-build');
    const source = copyFixture(fixture('provisioned', { fillMiB: 100 }), dir, 'dev-card.img');
    const r = await odsSd(['clone', source, 'v1-0-0-KILL', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    card = join(dir, 'card.img');
    writeFileSync(card, '');
    await import('node:fs/promises').then((f) => f.truncate(card, 1024 * 1024 * 1024));
  });

  afterAll(() => {
    for (const line of loopDevicesFor(card)) detach(line.split(':')[0]!);
  });

  it('stops every process it started, and the lock waits for them', async () => {
    const cli = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'ods-sd.js'), 'restore', card, 'v1-0-0-KILL', '--library', lib, '--yes', '--json'],
      { stdio: ['ignore', 'ignore', 'ignore'], detached: true },
    );
    const done = new Promise((r) => cli.on('close', r));
    const { dev, ino } = statSync(card);
    const lock = join(cardLockDir(), `card-file-${dev}-${ino}.lock`);

    // partclone.ext4 -r writing the card, started by restore_golden.sh, started by the CLI.
    let partclone: Proc | undefined;
    await until('partclone.ext4 -r to write the card', () => {
      const all = processes();
      const script = all.find((p) => p.cmd.includes('restore_golden.sh') && p.cmd.includes(card));
      partclone = all.find((p) => p.pgrp === script?.pgrp && /^partclone\.ext4 .*-r/.test(p.cmd));
      return partclone !== undefined;
    });
    // Held there: it cannot end before the test lets it go on (a pending SIGTERM waits too).
    process.kill(partclone!.pid, 'SIGSTOP');
    const group = partclone!.pgrp;
    const started = processes().filter((p) => p.pgrp === group);
    expect(started.some((p) => p.cmd.includes('restore_golden.sh'))).toBe(true);
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(cli.pid);

    process.kill(cli.pid!, 'SIGKILL');
    await done;
    // The next job on the card, started at once.
    const next = odsSd(['restore', card, 'v1-0-0-KILL', '--library', lib, '--yes']);

    // While anything the killed CLI started runs, the lock stays the killed CLI's.
    let polls = 0;
    let released = false;
    await until(
      'every process the killed CLI started to end',
      () => {
        // The lock first, then the processes: one still there now was there when the lock was read
        // (the next job may take the lock over the moment the last one ends).
        let holder: number | undefined;
        try {
          holder = JSON.parse(readFileSync(lock, 'utf8')).pid;
        } catch {
          holder = undefined; // gone, or being written by the next job
        }
        const left = processes().filter((p) => p.pgrp === group);
        if (left.length > 0) {
          expect(holder, 'the lock was removed while its tools run').toBeDefined();
          expect(holder, 'the lock was taken over').toBe(cli.pid);
          // After a while, let partclone go on: it then meets the SIGTERM that stops it.
          if (++polls === 100 && !released) {
            released = true;
            process.kill(partclone!.pid, 'SIGCONT');
          }
        }
        return left.length === 0;
      },
      60_000,
    );
    expect(released, 'the processes ended before partclone was let go').toBe(true);
    // None of them lives on with another parent either.
    const alive = new Set(processes().map((p) => p.pid));
    expect(started.filter((p) => alive.has(p.pid)).map((p) => p.cmd)).toEqual([]);
    // restore_golden.sh ran its cleanup (SIGTERM, not SIGKILL): no loop device left on the card
    // but those of the job that took over, which then restored the card.
    const r = await next;
    expect(r.code, r.stderr).toBe(0);
    expect(loopDevicesFor(card)).toEqual([]);
    expect(sfdiskJson(card).partitions).toHaveLength(2);
    expect(existsSync(lock)).toBe(false);
  });
});
