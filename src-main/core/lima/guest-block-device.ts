/**
 * The card as a block device in the Lima VM: the host serves it over NBD (card-server.ts, the
 * raw-disk helper for a device) and `limactl shell … nbd_card.sh attach` carries the stream on the
 * ssh session's stdin/stdout to nbd-client in the VM (a root-only UNIX socket there, never a
 * network port). The builder scripts then run on /dev/nbdN as on a card the VM could see: partclone
 * reads only the used blocks, and nothing card-sized is written on the Mac.
 *
 * Whether the VM can do this is probed once per VM boot (`nbd_card.sh probe`, remembered here by
 * the guest's boot id): the nbd module must load and nbd-client and socat be installed. When it
 * cannot, or ATLAS_CARD_ACCESS=staged, the caller stages the card in the work dir instead.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import type { AttachedCard, AttachOptions } from '../builder/builder.js';
import { serveCard, type ServedCard } from '../cards/card-server.js';
import type { RawCard } from '../card-io/card-reads.js';
import { parseScriptLine } from '../builder/script-events.js';

export interface BlockDeviceSupport {
  available: boolean;
  reason: string;
}

/** What the session needs of the Lima builder. */
export interface GuestSessionHost {
  /** limactl and its argv running `nbd_card.sh ARGS` under atlas-run.sh, with its pid file. */
  sessionCommand(args: string[]): Promise<{ command: string; argv: string[]; pidFile: string }>;
  /** Ends the script of that pid file (SIGTERM to its group, SIGKILL after the grace period). */
  stopGuestScript(pidFile: string): Promise<void>;
  /** Removes the pid file and its cancel marker. */
  forgetRun(pidFile: string): Promise<void>;
}

/** ATLAS_CARD_ACCESS=staged forces the staged copy; anything else lets the probe decide. */
export function forcedStaged(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ATLAS_CARD_ACCESS === 'staged';
}

export function parseProbe(results: Map<string, string[]>): BlockDeviceSupport & { bootId: string } {
  const answer = results.get('nbd')?.[0] ?? 'unavailable the probe gave no answer';
  const bootId = results.get('boot-id')?.[0] ?? '';
  if (answer === 'available') return { available: true, reason: 'the VM attaches it over NBD', bootId };
  return { available: false, reason: answer.replace(/^unavailable\s*/, '') || 'unknown', bootId };
}

const DEVICE = /^\/dev\/nbd\d{1,2}$/;

/** Attaches the card in the VM; the caller must release() it (also after a failure of its own). */
export async function attachInGuest(
  host: GuestSessionHost,
  card: RawCard,
  options: AttachOptions,
  ctx: JobContext,
): Promise<AttachedCard> {
  const served = await serveCard(card, ctx, {
    writable: options.writable,
    ...(options.checkMaps ? { checkMaps: true } : {}),
    ...(options.guard ? { guard: options.guard } : {}),
  });
  let run: { command: string; argv: string[]; pidFile: string } | undefined;
  try {
    run = await host.sessionCommand(['attach', String(served.bytes), options.writable ? 'rw' : 'ro']);
    return await connect(host, run, served, ctx);
  } catch (e) {
    served.stop();
    await served.done.catch(() => undefined);
    if (run) await host.forgetRun(run.pidFile);
    throw e;
  }
}

async function connect(
  host: GuestSessionHost,
  run: { command: string; argv: string[]; pidFile: string },
  served: ServedCard,
  ctx: JobContext,
): Promise<AttachedCard> {
  const child = spawn(run.command, run.argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('close', (code, signal) => resolve(code ?? (signal ? 255 : 1)));
  });
  child.stdin.on('error', () => undefined);
  served.toCard.on('error', () => undefined);
  served.fromCard.pipe(child.stdin);
  child.stdout.pipe(served.toCard);

  let fail: { code: string; message: string } | undefined;
  let device: string | undefined;
  const tail: string[] = [];
  const attached = new Promise<string | undefined>((resolve) => {
    const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const e = parseScriptLine(line);
      if (e?.kind === 'record' && e.name === 'device' && DEVICE.test(e.fields[0] ?? '')) {
        device = e.fields[0];
        resolve(device);
      } else if (e?.kind === 'fail') {
        fail = { code: e.code, message: e.message };
      } else if (!e && line.trim()) {
        tail.push(line);
        if (tail.length > 6) tail.shift();
        ctx.log(`nbd: ${line}`);
      }
    });
    void exited.then(() => resolve(undefined));
    void served.done.catch(() => resolve(undefined));
  });

  let released: Promise<{ readBytes: number; writtenBytes: number }> | undefined;
  const release = () =>
    (released ??= (async () => {
      // The guest flushes and disconnects (NBD_CMD_DISC ends the helper's serving).
      await host.stopGuestScript(run.pidFile);
      const gone = await Promise.race([exited, sleep(15_000).then(() => undefined)]);
      if (gone === undefined) child.kill('SIGKILL');
      const counts = await Promise.race([served.done, sleep(15_000).then(() => undefined)]).catch(
        (e: unknown) => {
          if (ctx.signal.aborted) return undefined;
          throw e;
        },
      );
      if (counts === undefined) {
        served.stop();
        await served.done.catch(() => undefined);
      }
      await host.forgetRun(run.pidFile);
      if (ctx.signal.aborted) ctx.throwIfCancelled();
      if (!counts) {
        throw new AtlasError(
          'tool-failed',
          `the card's block device in the VM did not disconnect cleanly`,
          'run the job again after checking the card',
          { next: [{ do: 'inspect-card' }] },
        );
      }
      return counts;
    })());

  const dev = await attached;
  if (!dev) {
    child.kill('SIGTERM');
    await release().catch(() => undefined);
    ctx.throwIfCancelled();
    throw new AtlasError(
      fail?.code === 'missing-tool' ? 'missing-tool' : 'tool-failed',
      `the VM could not attach the card as a block device: ${fail?.message ?? (tail.join(' ') || 'nbd_card.sh ended')}`,
      'ATLAS_CARD_ACCESS=staged copies the card into the work folder instead',
      { next: [{ do: 'vm-doctor' }] },
    );
  }
  ctx.log(`card access: ${card(served)} attached in the VM as ${dev} (NBD over limactl shell)`);
  return { device: dev, damaged: served.damaged, notes: served.notes, release };
}

const card = (s: ServedCard) => `${s.bytes} bytes`;
