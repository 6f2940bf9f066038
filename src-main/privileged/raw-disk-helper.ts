/**
 * The raw-disk helper: the only part of Atlas Imager that opens card devices, so the only part that
 * runs with the rights to do so (root on Linux; on macOS started through the system's administrator
 * authorization dialog). It runs as its own process and talks JSON lines over a pair of pipes only:
 * its stdin/stdout, or two named pipes passed as `--in PATH --out PATH` when the launcher cannot
 * connect stdio (macOS `do shell script`). Never a network port.
 *
 * Started plainly it serves one request and exits with its code. Started with `--session` (first
 * argument) it says {"event":"ready"} once its pipes are open, then serves every request sent until
 * its input closes, several at once: each request carries an "id" (a positive integer), each event
 * answers with it, and {"op":"cancel","id":N} stops request N. So one authorization (one macOS
 * password dialog) serves every card of an app session or CLI run.
 *
 * Requests (anything else, and any extra field, is refused):
 *   {"op":"read","device":"/dev/sdc","expect":{"bytes":N,"serial"?,"model"?,"medium"?,"table"?},
 *    "dest":"/abs/new.img","length"?:N,"used"?:true,
 *    "partclone"?:{"partition":2,"version":"0.3.23","to":"/abs/fifo"}}
 *                                                card → new sparse file (with "used": its used
 *                                                blocks only; with "partclone" also that
 *                                                partition's partclone image, made from the same
 *                                                reads, on the requester's named pipe)
 *   {"op":"write","device":"/dev/sdc","expect":{…},"source":"/abs/x.img.xz","verify":true,
 *    "invalidate"?:[[start,end],…],"ranges"?:[[start,end,"chksum"?],…],"checksumType"?:"sha256",
 *    "minBytes"?:N}                              image → card, by the write plan (core/write)
 *    "places"?:[{"what":"the library","path":"/abs"}],"unusual"?:true}   a disk holding a place
 *                                                is refused; a disk larger than an SD card or
 *                                                internal only with "unusual" (target-guards.ts)
 *   {"op":"serve","device","expect":{…},"writable":false|true,"dataIn":"/abs/fifo",
 *    "dataOut":"/abs/fifo","checkMaps"?:true,"places"?:[…],"unusual"?:true}
 *                                                the card as a block device: an NBD server on the
 *                                                data pipes (core/nbd/nbd-server.ts), for the
 *                                                builder VM's nbd-client
 *   {"op":"cancel"}                               while a request runs
 * Events: {"event":"progress","phase":"read"|"write"|"verify","done","total"} (throttled), then
 * {"event":"done","bytes","sha256","verified"} or {"event":"error","code","message","hint"}.
 * Exit codes: 0 done, 1 failed, 2 request refused, 3 cancelled.
 *
 * Serving keeps the two channels apart: the JSON lines stay on the request pipes (the request,
 * then {"op":"cancel"}; {"event":"serving","bytes"[,"damaged","notes"]} once the card is checked
 * and opened, then "done" with "readBytes"/"writtenBytes" or "error"), while the NBD stream runs
 * on a second pair of named pipes the client made (`dataIn`: client → helper, `dataOut`: helper →
 * client; owned by the requester, never symlinks, opened here as the requester). The card is
 * checked as for read (writable: as for write, with "places" and "unusual"), opened O_EXCL on
 * Linux, and every NBD request is bounds-checked against its size; a read-only export refuses
 * writes. With "checkMaps" the file system maps are cross-checked first (as a used-block read
 * does) and the damaged ones named in "serving". Serving ends when the client disconnects
 * (NBD_CMD_DISC), the data pipe closes, or on cancel; a writable card is flushed first.
 *
 * A write is the plan built by the unprivileged side (src-main/core/write): the card areas to zero
 * first (the first MiB and the last 33 sectors are always zeroed, whatever is asked), and the
 * ranges of the image's block map to copy (else the whole image; a compressed image is decompressed
 * as one stream and only those ranges of it are written). The helper never maps
 * an image itself: it checks the plan (write-plan.ts checkPlan: sorted, inside the image and the
 * card, bounded) and carries it out with the same code as every other write (run-plan.ts).
 *
 * It trusts nothing it is told: device names must be whole card-reader disks, paths absolute without
 * "..", and the device is identified again here, right before it is touched (same size, serial,
 * model and medium as `expect`, not the disk holding the running system, nothing mounted, the
 * image not stored on it). Files are opened with the rights of the user who asked (SUDO_UID,
 * PKEXEC_UID), so the helper cannot read or create a file that user could not.
 *
 * It ships as one bundled file, dist/privileged/raw-disk-helper.mjs (vite.helper.config.ts), so it
 * runs from outside the packaged app's asar archive without the rest of dist/ or node_modules.
 */
import { closeSync, constants, fstatSync, openSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AtlasError, CancelledError, toAtlasError } from '../core/errors.js';
import { absolutePath, check, dotPath, type Problem } from '../common/schema.js';
import {
  EXIT,
  HELPER_REQUEST,
  type Expect,
  type HelperDone,
  type HelperEvent,
  type HelperRequest,
  type Phase,
} from '../common/raw-disk-protocol.js';
import type { JobContext } from '../core/jobs/job.js';
import {
  cardPlatform,
  type CardPlatform,
  type HelperGuard,
  type HelperTarget,
} from '../core/cards/platform/index.js';
import { detectCompressionOf, uncompressedSize } from '../core/images/compression.js';
import { copyStreamTo, handleBlocks } from '../core/rawio/block-copy.js';
import { runTool } from '../core/tools/run-tool.js';
import { copyUsedBetween, type ReadUsedOptions } from '../core/rawio/used-blocks/read-used.js';
import { mergeRanges, type ByteRange } from '../core/rawio/used-blocks/byte-ranges.js';
import { runPlan } from '../core/write/run-plan.js';
import { handleBackend, serveNbd } from '../core/nbd/nbd-server.js';
import { handleReader } from '../core/rawio/used-blocks/byte-reader.js';
import { mapCard } from '../core/rawio/used-blocks/used-ranges.js';
import { checkPlan, invalidationRanges, type MappedRange, type WritePlan } from '../core/write/write-plan.js';

// --- request validation -----------------------------------------------------------------------------

const refuse = (message: string, hint?: string): never => {
  throw new AtlasError('bad-input', message, hint ?? 'this request is not one the raw-disk helper accepts');
};

/** Whole card-reader disks only (the card platform's names): no partitions, no NVMe or virtio system disks. */
function cardDevice(v: unknown, platform: NodeJS.Platform): string {
  const cards = cardPlatform(platform);
  if (typeof v !== 'string' || !cards.wholeCard.test(v)) {
    throw new AtlasError(
      'unsafe-target',
      `${JSON.stringify(v)} is not a card device: the raw-disk helper only opens whole card-reader disks`,
      cards.wholeCardHint,
    );
  }
  return v;
}

/** The write plan of a request: the ranges asked for, plus the first MiB and end of the card. */
export function planOf(req: Extract<HelperRequest, { op: 'write' }>, targetBytes: number): WritePlan {
  const asked: ByteRange[] = (req.invalidate ?? []).map(([start, end]) => ({ start, end }));
  const ranges: MappedRange[] | undefined = req.ranges?.map(([start, end, checksum]) => ({
    start,
    end,
    ...(checksum ? { checksum } : {}),
  }));
  return {
    invalidate: mergeRanges([...asked, ...invalidationRanges(targetBytes, [])]),
    ...(ranges ? { ranges } : {}),
    ...(req.checksumType ? { checksumType: req.checksumType } : {}),
    ...(req.minBytes !== undefined ? { minBytes: req.minBytes } : {}),
    verify: req.verify,
  };
}

/** A pipe's path, checked as a request's paths are. */
function pipePath(path: string): string {
  const r = check(absolutePath(), path);
  if (!r.ok) refuse(`pipe: ${r.problem.message}`);
  return path;
}

/** A schema problem as the helper words it: `dest: expected an absolute path`. */
function problemText(problem: Problem): string {
  const at = dotPath(problem.path);
  if (problem.unknownKey !== undefined) {
    const parent = dotPath(problem.path.slice(0, -1));
    return `unknown field ${JSON.stringify(problem.unknownKey)} in ${parent || 'the request'}`;
  }
  return at && at !== 'op' ? `${at}: ${problem.message}` : problem.message;
}

/** Parses and validates one request line; throws a typed AtlasError for anything else. */
export function parseRequest(line: string, platform: NodeJS.Platform = process.platform): HelperRequest {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    refuse('the request is not JSON');
  }
  const r = check(HELPER_REQUEST, json);
  if (!r.ok) return refuse(problemText(r.problem));
  const req = r.value;
  if (req.op === 'cancel') return req;
  cardDevice(req.device, platform);
  if (req.op === 'serve' && !req.writable && (req.places !== undefined || req.unusual !== undefined))
    refuse('places and unusual are for a writable serve only');
  return req;
}

// --- whose rights files are opened with ---------------------------------------------------------

interface Requester {
  uid: number;
  gid: number;
}

/** The user who asked, when the helper runs as root on someone's behalf (sudo, pkexec, macOS launcher). */
async function requester(): Promise<Requester | undefined> {
  if (process.geteuid?.() !== 0) return undefined;
  const uid = Number(process.env.SUDO_UID ?? process.env.PKEXEC_UID);
  if (!Number.isSafeInteger(uid) || uid <= 0) return undefined;
  let gid = Number(process.env.SUDO_GID);
  if (!Number.isSafeInteger(gid) || gid < 0)
    gid = Number((await runTool('id', ['-g', String(uid)])).stdout.trim());
  if (!Number.isSafeInteger(gid) || gid < 0)
    throw new AtlasError('permission', `cannot find the group of user ${uid}`);
  return { uid, gid };
}

/** Runs a synchronous file operation with the requesting user's rights. */
function asRequester<T>(who: Requester | undefined, fn: () => T): T {
  if (!who) return fn();
  const groups = process.getgroups!();
  process.setgroups!([who.gid]);
  process.setegid!(who.gid);
  process.seteuid!(who.uid);
  try {
    return fn();
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
    process.setgroups!(groups);
  }
}

function fileError(e: unknown, path: string, who: Requester | undefined): AtlasError {
  const code = (e as NodeJS.ErrnoException).code;
  const as = who ? ` as user ${who.uid}` : '';
  if (code === 'EEXIST') return new AtlasError('exists', `${path} already exists`, 'choose a new file name');
  if (code === 'ENOENT') return new AtlasError('not-found', `${path} does not exist${as}`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new AtlasError('permission', `${path} cannot be opened${as}`, 'use a file and folder of your own');
  }
  if (code === 'ELOOP')
    return new AtlasError('bad-input', `${path} is a symbolic link`, 'give the real path');
  return toAtlasError(e);
}

// --- the target, checked again here ----------------------------------------------------------------

/** The device as the helper checked it (`io`: the node it opens) and what a request says about it. */
export type { HelperTarget as Target, HelperGuard as Guard } from '../core/cards/platform/index.js';

/**
 * The device checked again, right before it is touched, by the card platform's rules (exported
 * for the tests of these rules).
 */
export function checkTarget(
  device: string,
  expect: Expect,
  op: 'read' | 'write',
  platform: NodeJS.Platform = process.platform,
  guard: HelperGuard = {},
): Promise<HelperTarget> {
  return cardPlatform(platform).recheckTarget(device, expect, op, guard);
}

// --- the two operations -------------------------------------------------------------------------------

type Done = HelperDone;

/** What every operation runs with: its job, the platform and its card rules, whose rights files are opened with. */
interface Run {
  ctx: JobContext;
  platform: NodeJS.Platform;
  cards: CardPlatform;
  who: Requester | undefined;
  emit: (e: HelperEvent) => void;
}
type Request<Op extends HelperRequest['op']> = Extract<HelperRequest, { op: Op }>;

/** The checked card, opened the platform's way (exclusive; on a Mac sector-aligned), errors worded. */
async function openCard(
  cards: CardPlatform,
  target: HelperTarget,
  mode: 'read' | 'write',
): Promise<FileHandle> {
  try {
    return await cards.openDevice(target.io, mode);
  } catch (e) {
    throw cards.openDeviceError(e, target.io);
  }
}

/**
 * The first `length` bytes of the card open as `src` into the new file `out` (closed when done):
 * every byte, or with `used` only the partition tables, file system metadata and used blocks.
 * All reads go through `src.read`, so a Mac's raw node sees whole sectors only (exported for the
 * tests of that).
 */
export async function copyCard(
  src: FileHandle,
  length: number,
  out: FileHandle,
  used: boolean,
  ctx: JobContext,
  device: string,
  partclone?: ReadUsedOptions['partclone'],
): Promise<Done> {
  if (used) {
    const r = await copyUsedBetween(src, length, out, ctx, partclone ? { partclone } : {});
    await out.close();
    return {
      bytes: r.bytes,
      sha256: '',
      verified: false,
      mappedBytes: r.mappedBytes,
      fallbacks: r.fallbacks,
      ...(r.partclone ? { partclone: r.partclone } : {}),
    };
  }
  ctx.step('read', `Reading ${device}`, length);
  const r = await copyStreamTo(handleBlocks(src, length), out, { ctx, totalBytes: length, sparse: true });
  if (r.bytes !== length)
    throw new AtlasError('tool-failed', `the card ended after ${r.bytes} of ${length} bytes`);
  await out.truncate(r.bytes);
  await out.close();
  return { bytes: r.bytes, sha256: r.sha256, verified: false };
}

async function readCard(req: Request<'read'>, run: Run): Promise<Done> {
  const { ctx, platform, who, cards } = run;
  const target = await checkTarget(req.device, req.expect, 'read', platform);
  const length = req.length ?? target.bytes;
  if (length > target.bytes) refuse(`length ${length} is past the end of the card (${target.bytes} bytes)`);
  let fd: number;
  try {
    fd = asRequester(who, () =>
      openSync(
        req.dest,
        constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600, // a card copy carries the card's secrets: its owner's only
      ),
    );
  } catch (e) {
    throw fileError(e, req.dest, who);
  }
  let out: FileHandle | undefined;
  let fdOpen = true;
  try {
    out = await open(cards.fdPath(fd), 'r+');
    closeSync(fd);
    fdOpen = false;
    // The card through the platform's own handle: on a Mac every read in whole sectors.
    const src = await openCard(cards, target, 'read');
    let image: Socket | undefined;
    try {
      if (req.partclone) {
        if (req.used !== true) refuse('a partclone image is made by a used-block read only');
        // The client holds its read end open already; without a reader the open fails (ENXIO)
        // instead of waiting.
        const to = req.partclone.to;
        let fd: number;
        try {
          fd = openFifo(to, constants.O_WRONLY | constants.O_NONBLOCK, who);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw fileError(e, to, who);
          throw new AtlasError('bad-input', `nothing reads the named pipe ${to}`, 'open its read end first');
        }
        image = new Socket({ fd, readable: false, writable: true });
        image.on('error', () => undefined); // the copy reads it from its own failure
      }
      const partclone = image && req.partclone ? { ...req.partclone, out: image } : undefined;
      return await copyCard(src, length, out, req.used === true, ctx, req.device, partclone);
    } finally {
      image?.destroy();
      await src.close();
    }
  } catch (e) {
    await out?.close().catch(() => undefined);
    if (fdOpen) closeSync(fd);
    try {
      asRequester(who, () => unlinkSync(req.dest));
    } catch {
      /* nothing to remove */
    }
    throw e;
  }
}

async function writeCard(req: Request<'write'>, run: Run): Promise<Done> {
  const { ctx, platform, who, cards } = run;
  let fd: number;
  try {
    // Never through a link, never waiting on a pipe or device swapped in at the path.
    fd = asRequester(who, () =>
      openSync(req.source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK),
    );
  } catch (e) {
    throw fileError(e, req.source, who);
  }
  let image: FileHandle | undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      refuse(`${req.source} is not a regular file`, 'give the path of an image file; nothing was written');
    const target = await checkTarget(req.device, req.expect, 'write', platform, {
      ...(req.places ? { places: req.places } : {}),
      ...(req.unusual ? { unusual: true } : {}),
    });
    const holders = await cards.disksHolding({ path: req.source, dev: st.dev });
    if (holders.includes(target.whole)) {
      throw new AtlasError(
        'unsafe-target',
        `${req.source} is stored on ${target.whole}, the card to be written`,
        'copy the image elsewhere first',
      );
    }
    // Every read goes through the file opened as the requester: our own reads (the structure of a
    // compressed image, its decoding in this process) through the descriptor, the decompressor
    // tools from their stdin, so no path can be swapped in between.
    const own = cards.fdPath(fd);
    image = await open(own, constants.O_RDONLY | constants.O_NONBLOCK);
    const again = await image.stat();
    if (!again.isFile() || again.ino !== st.ino || again.dev !== st.dev)
      refuse(`${req.source} changed while it was opened`, 'nothing was written: flash it again');
    const compression = await detectCompressionOf(image);
    const size = compression === 'none' ? st.size : await uncompressedSize(own, compression, req.source);
    const plan = planOf(req, target.bytes);
    // Checked before the card is opened; run-plan checks it again.
    checkPlan(plan, size, target.bytes, 'request');
    const dev = await openCard(cards, target, 'write');
    try {
      const r = await runPlan(
        { name: req.source, path: own, handle: image, compression, bytes: size },
        plan,
        {
          handle: dev,
          path: target.io,
          label: req.device,
          bytes: target.bytes,
          ...(cards.flush ? { flush: () => cards.flush!(target.io) } : {}),
        },
        ctx,
      );
      return {
        bytes: r.bytes,
        sha256: r.sha256,
        verified: r.verified,
        ...(r.mappedBytes !== undefined ? { mappedBytes: r.writtenBytes } : {}),
      };
    } finally {
      await dev.close();
    }
  } finally {
    await image?.close();
    closeSync(fd);
  }
}

/**
 * The card as an NBD export on the data pipes, until the client disconnects, the pipe closes or
 * the request is cancelled. `serving` is emitted once the card is checked and open.
 */
async function serveCard(req: Request<'serve'>, run: Run): Promise<Done> {
  const { ctx, platform, who, cards, emit } = run;
  const guard: HelperGuard = {
    ...(req.places ? { places: req.places } : {}),
    ...(req.unusual ? { unusual: true } : {}),
  };
  const target = await checkTarget(req.device, req.expect, req.writable ? 'write' : 'read', platform, guard);
  const dev = await openCard(cards, target, req.writable ? 'write' : 'read');
  let input: Socket | undefined;
  let output: Socket | undefined;
  try {
    const serving: HelperEvent = { event: 'serving', bytes: target.bytes };
    if (req.checkMaps) {
      const map = await mapCard(handleReader(dev, target.bytes));
      const damaged = map.partitions.filter((p) => p.damaged && (p.index === 1 || p.index === 2));
      serving.damaged = damaged.map((p) => p.fallback ?? `partition ${p.index}`);
      serving.notes = map.partitions.filter((p) => p.fallback && !p.damaged).map((p) => p.fallback!);
    }
    // The client holds its ends open already: neither open waits.
    input = new Socket({
      fd: openFifo(req.dataIn, constants.O_RDONLY, who),
      readable: true,
      writable: false,
    });
    output = new Socket({
      fd: openFifo(req.dataOut, constants.O_WRONLY, who),
      readable: false,
      writable: true,
    });
    output.on('error', () => undefined);
    input.on('error', () => undefined);
    emit(serving);
    const r = await serveNbd(input, output, handleBackend(dev, target.bytes), {
      writable: req.writable,
      signal: ctx.signal,
    });
    if (r.end === 'cancelled') throw new CancelledError(`serving ${req.device}`);
    if (req.writable) {
      await dev.sync();
      await cards.flush?.(target.io);
    }
    return {
      bytes: target.bytes,
      sha256: '',
      verified: false,
      readBytes: r.readBytes,
      writtenBytes: r.writtenBytes,
    };
  } finally {
    input?.destroy();
    output?.destroy();
    await dev.close();
  }
}

// --- the process --------------------------------------------------------------------------------------

interface Channel {
  input: Readable;
  outFd: number;
}

/** A named pipe of the requester's (never a symlink), opened with the requester's rights. */
function openFifo(path: string, flags: number, who: Requester | undefined): number {
  const fd = asRequester(who, () => openSync(pipePath(path), flags | constants.O_NOFOLLOW));
  const st = fstatSync(fd);
  if (!st.isFIFO() || (who !== undefined && st.uid !== who.uid)) {
    closeSync(fd);
    throw new AtlasError('bad-input', `${path} is not a named pipe of the requesting user`);
  }
  return fd;
}

/** stdin/stdout, or the named pipes `--in PATH --out PATH` (owned by the requester, never symlinks). */
function openChannel(args: string[], who: Requester | undefined): Channel {
  if (args.length === 0) return { input: process.stdin, outFd: 1 };
  if (args.length !== 4 || args[0] !== '--in' || args[2] !== '--out') {
    throw new AtlasError('usage', 'usage: raw-disk-helper [--in FIFO --out FIFO]');
  }
  const fifo = (path: string, flags: number) => openFifo(path, flags, who);
  // The client holds its ends open before we start, so these opens do not wait. The input is read
  // on the event loop (a pipe handle), never by a blocked thread that would keep the process alive.
  const inFd = fifo(args[1]!, constants.O_RDONLY);
  const outFd = fifo(args[3]!, constants.O_WRONLY);
  return { input: new Socket({ fd: inFd, readable: true, writable: false }), outFd };
}

function context(signal: AbortSignal, emit: (e: HelperEvent) => void): JobContext {
  let phase: Phase = 'read';
  let last = 0;
  return {
    signal,
    step: (id) => {
      // A used-block read maps the card, then copies: both are the read phase.
      phase = id === 'map-used' || id === 'read-used' ? 'read' : (id as Phase);
      last = 0;
    },
    progress: (done, total = 0) => {
      const now = Date.now();
      if (done < total && now - last < 250) return;
      last = now;
      emit({ event: 'progress', phase, done, total });
    },
    log: (line) => process.stderr.write(`${line}\n`),
    throwIfCancelled: () => {
      if (signal.aborted) throw new CancelledError();
    },
  };
}

function errorEvent(e: AtlasError): HelperEvent {
  return { event: 'error', ...e.toJSON() };
}

/** The id of a request line, when it has one, so that even a refusal reaches the right request. */
function idOf(line: string): number | undefined {
  try {
    const id = (JSON.parse(line) as { id?: unknown } | null)?.id;
    return Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : undefined;
  } catch {
    return undefined;
  }
}

const exitCodeOf = (e: AtlasError): number => (e.code === 'cancelled' ? EXIT.cancelled : EXIT.failed);

async function main(argv: string[]): Promise<void> {
  const platform = process.platform;
  // `--session`: serve request after request (each with its own id, several at once) until the
  // input closes; else one request, then exit with its code.
  const session = argv[0] === '--session';
  const args = session ? argv.slice(1) : argv;
  let outFd = 1;
  const write = (e: object) => {
    try {
      writeSync(outFd, `${JSON.stringify(e)}\n`);
    } catch {
      /* the client is gone; its requests are cancelled through the closed input */
    }
  };
  let who: Requester | undefined;
  let channel: Channel;
  try {
    who = await requester();
    channel = openChannel(args, who);
  } catch (e) {
    write(errorEvent(toAtlasError(e)));
    return process.exit(EXIT.refused);
  }
  outFd = channel.outFd;
  if (session) write({ event: 'ready' });

  const running = new Map<number | undefined, AbortController>();
  let served = 0;
  let inputClosed = false;
  const finished = (code: number) => {
    if (!session) process.exit(code);
    if (inputClosed && running.size === 0) process.exit(EXIT.done);
  };

  const serve = async (line: string): Promise<void> => {
    const lineId = idOf(line);
    const emit = (e: HelperEvent) => write(lineId === undefined ? e : { ...e, id: lineId });
    let req: HelperRequest;
    try {
      req = parseRequest(line, platform);
      if (req.op === 'cancel') throw new CancelledError('the request');
      if (running.has(req.id)) refuse(`request ${req.id ?? ''} is already running`.replace('  ', ' '));
    } catch (e) {
      const err = toAtlasError(e);
      emit(errorEvent(err));
      return finished(err.code === 'cancelled' ? EXIT.cancelled : EXIT.refused);
    }
    const controller = new AbortController();
    running.set(req.id, controller);
    const run: Run = {
      ctx: context(controller.signal, emit),
      platform,
      cards: cardPlatform(platform),
      who,
      emit,
    };
    let code: number = EXIT.done;
    try {
      const r =
        req.op === 'read'
          ? await readCard(req, run)
          : req.op === 'write'
            ? await writeCard(req, run)
            : await serveCard(req, run);
      emit({ event: 'done', ...r });
    } catch (e) {
      const err = controller.signal.aborted
        ? new CancelledError(`the ${req.op} of ${req.device}`)
        : toAtlasError(e);
      code = exitCodeOf(err);
      emit(errorEvent(err));
    } finally {
      running.delete(req.id);
    }
    finished(code);
  };

  const lines = createInterface({ input: channel.input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let asked: HelperRequest | undefined;
    try {
      asked = parseRequest(line, platform);
    } catch {
      asked = undefined;
    }
    if (asked?.op === 'cancel' && (running.size > 0 || session)) {
      // A cancel names its request in a session; a single request's helper has just the one.
      const target = session ? running.get(asked.id) : running.values().next().value;
      target?.abort();
      return;
    }
    if (!session && served > 0) {
      process.stderr.write('raw-disk-helper: ignored a line that is not {"op":"cancel"}\n');
      return;
    }
    served++;
    void serve(line);
  });
  lines.on('close', () => {
    inputClosed = true;
    // The client went away (or, in a session, is done): stop what runs.
    for (const c of running.values()) c.abort();
    if (!session && served === 0) {
      write(
        errorEvent(
          new AtlasError(
            'bad-input',
            'no request was received',
            'this request is not one the raw-disk helper accepts',
          ),
        ),
      );
      process.exit(EXIT.refused);
    }
    if (session) finished(EXIT.done);
  });
}

const entry = process.argv[1];
if (entry && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))) {
  void main(process.argv.slice(2));
}
