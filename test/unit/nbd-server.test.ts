// The NBD server (src-main/core/nbd/nbd-server.ts) talked to in-process over a pair of streams,
// with a small client written from the protocol document: handshake (GO, EXPORT_NAME, INFO,
// ABORT, an unknown option), reads and writes in and out of bounds, a read-only export, FLUSH and
// DISC, an oversized request, a stream that ends, and cancellation.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NBD_CMD, NBD_ERR, NBD_OPT, serveNbd, type NbdBackend } from '../../src-main/core/nbd/nbd-server.js';
import { u16, u32, u64 } from '../../src-main/core/nbd/nbd-wire.js';

const SIZE = 1024 * 1024;

function memoryBackend(size = SIZE): NbdBackend & { data: Buffer; flushes: number; touched: number[] } {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = i % 251;
  const b = {
    size,
    data,
    flushes: 0,
    touched: [] as number[],
    async read(offset: number, length: number) {
      b.touched.push(offset, offset + length);
      return Buffer.from(data.subarray(offset, offset + length));
    },
    async write(offset: number, buf: Buffer) {
      b.touched.push(offset, offset + buf.length);
      buf.copy(data, offset);
    },
    async flush() {
      b.flushes++;
    },
  };
  return b;
}

/** A minimal NBD client over the two streams. */
class Client {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  constructor(
    readonly toServer: PassThrough,
    fromServer: PassThrough,
  ) {
    fromServer.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiters.splice(0).forEach((w) => w());
    });
    fromServer.on('end', () => {
      this.ended = true;
      this.waiters.splice(0).forEach((w) => w());
    });
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.ended) throw new Error(`the server closed the stream (wanted ${n} bytes)`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  send(...parts: Buffer[]): void {
    this.toServer.write(Buffer.concat(parts));
  }
  async greeting(noZeroes = true): Promise<number> {
    const g = await this.take(18);
    expect(g.subarray(0, 16).toString()).toBe('NBDMAGICIHAVEOPT');
    this.send(u32(noZeroes ? 3 : 1));
    return g.readUInt16BE(16);
  }
  option(opt: number, data: Buffer = Buffer.alloc(0)): void {
    this.send(Buffer.from('IHAVEOPT'), u32(opt), u32(data.length), data);
  }
  async optReply(): Promise<{ opt: number; type: number; data: Buffer }> {
    const h = await this.take(20);
    expect(h.readBigUInt64BE(0)).toBe(0x3e889045565a9n);
    const len = h.readUInt32BE(16);
    return { opt: h.readUInt32BE(8), type: h.readUInt32BE(12), data: await this.take(len) };
  }
  /** NBD_OPT_GO for `name`: the size and transmission flags from NBD_INFO_EXPORT. */
  async go(name = ''): Promise<{ size: bigint; flags: number }> {
    const n = Buffer.from(name);
    this.option(NBD_OPT.GO, Buffer.concat([u32(n.length), n, u16(0)]));
    let info: { size: bigint; flags: number } | undefined;
    for (;;) {
      const r = await this.optReply();
      if (r.type === 1) break;
      expect(r.type).toBe(3);
      if (r.data.readUInt16BE(0) === 0)
        info = { size: r.data.readBigUInt64BE(2), flags: r.data.readUInt16BE(10) };
    }
    return info!;
  }
  request(type: number, offset: number | bigint, length: number, handle = 7n, payload?: Buffer): void {
    this.send(
      u32(0x25609513),
      u16(0),
      u16(type),
      u64(handle),
      u64(offset),
      u32(length),
      payload ?? Buffer.alloc(0),
    );
  }
  async reply(dataLength = 0): Promise<{ error: number; handle: bigint; data: Buffer }> {
    const h = await this.take(16);
    expect(h.readUInt32BE(0)).toBe(0x67446698);
    const error = h.readUInt32BE(4);
    return {
      error,
      handle: h.readBigUInt64BE(8),
      data: error ? Buffer.alloc(0) : await this.take(dataLength),
    };
  }
}

function session(writable: boolean, backend = memoryBackend(), signal?: AbortSignal) {
  const c2s = new PassThrough();
  const s2c = new PassThrough();
  const served = serveNbd(c2s, s2c, backend, { writable, ...(signal ? { signal } : {}) }).finally(() =>
    s2c.end(),
  );
  return { client: new Client(c2s, s2c), served, backend, c2s };
}

describe('the NBD server', () => {
  it('negotiates with NBD_OPT_GO, refuses unknown options, serves reads and writes, flushes and disconnects', async () => {
    const { client, served, backend } = session(true);
    expect(await client.greeting()).toBe(3); // FIXED_NEWSTYLE | NO_ZEROES
    client.option(NBD_OPT.LIST);
    expect((await client.optReply()).type >>> 0).toBe(((1 << 31) | 1) >>> 0); // ERR_UNSUP
    const info = await client.go('card');
    expect(info.size).toBe(BigInt(SIZE));
    expect(info.flags & 2).toBe(0); // not read-only
    expect(info.flags & 4).toBe(4); // SEND_FLUSH

    client.request(NBD_CMD.READ, 4096, 512, 42n);
    const r = await client.reply(512);
    expect(r).toMatchObject({ error: 0, handle: 42n });
    expect(r.data.equals(backend.data.subarray(4096, 4608))).toBe(true);

    const payload = Buffer.alloc(1024, 0xab);
    client.request(NBD_CMD.WRITE, SIZE - 1024, 1024, 43n, payload);
    expect(await client.reply()).toMatchObject({ error: 0, handle: 43n });
    expect(backend.data.subarray(SIZE - 1024).equals(payload)).toBe(true);

    client.request(NBD_CMD.FLUSH, 0, 0, 44n);
    expect(await client.reply()).toMatchObject({ error: 0, handle: 44n });
    expect(backend.flushes).toBe(1);

    client.request(NBD_CMD.TRIM, 0, 4096, 45n);
    expect((await client.reply()).error).toBe(NBD_ERR.EINVAL);

    client.request(NBD_CMD.DISC, 0, 0);
    expect(await served).toMatchObject({ end: 'disconnect', readBytes: 512, writtenBytes: 1024 });
  });

  it('never touches a byte outside the export: out-of-bounds reads get EINVAL, writes ENOSPC, and the session goes on', async () => {
    const { client, served, backend } = session(true);
    await client.greeting();
    await client.go();
    client.request(NBD_CMD.READ, SIZE - 256, 512, 1n);
    expect((await client.reply()).error).toBe(NBD_ERR.EINVAL);
    client.request(NBD_CMD.READ, 2n ** 63n, 512, 2n);
    expect((await client.reply()).error).toBe(NBD_ERR.EINVAL);
    client.request(NBD_CMD.WRITE, SIZE, 512, 3n, Buffer.alloc(512, 1));
    expect((await client.reply()).error).toBe(NBD_ERR.ENOSPC);
    // The refused write's payload was consumed: the next request is read in step.
    client.request(NBD_CMD.READ, 0, 512, 4n);
    expect(await client.reply(512)).toMatchObject({ error: 0, handle: 4n });
    client.request(NBD_CMD.DISC, 0, 0);
    const result = await served;
    expect(result).toMatchObject({ end: 'disconnect', readBytes: 512, writtenBytes: 0 });
    expect(Math.max(...backend.touched)).toBeLessThanOrEqual(SIZE);
  });

  it('a read-only export says so and refuses every write with EPERM, leaving the data as it was', async () => {
    const { client, served, backend } = session(false);
    const before = Buffer.from(backend.data);
    await client.greeting(false);
    const info = await client.go();
    expect(info.flags & 2).toBe(2);
    client.request(NBD_CMD.WRITE, 0, 4096, 9n, Buffer.alloc(4096, 0xff));
    expect((await client.reply()).error).toBe(NBD_ERR.EPERM);
    client.request(NBD_CMD.READ, 0, 4096, 10n);
    expect((await client.reply(4096)).data.equals(before.subarray(0, 4096))).toBe(true);
    client.request(NBD_CMD.DISC, 0, 0);
    expect(await served).toMatchObject({ end: 'disconnect', writtenBytes: 0 });
    expect(backend.data.equals(before)).toBe(true);
  });

  it('answers the old NBD_OPT_EXPORT_NAME (with the 124 zero bytes when the client wants them) and NBD_OPT_INFO', async () => {
    const { client, served } = session(false);
    await client.greeting(false);
    client.option(NBD_OPT.INFO, Buffer.concat([u32(0), u16(0)]));
    const replies = [await client.optReply(), await client.optReply(), await client.optReply()];
    expect(replies.map((r) => r.type)).toEqual([3, 3, 1]);
    client.option(NBD_OPT.EXPORT_NAME, Buffer.from('card'));
    const h = await client.take(8 + 2 + 124);
    expect(h.readBigUInt64BE(0)).toBe(BigInt(SIZE));
    expect(h.subarray(10).every((b) => b === 0)).toBe(true);
    client.request(NBD_CMD.READ, 512, 512, 5n);
    expect((await client.reply(512)).error).toBe(0);
    client.toServer.end();
    expect(await served).toMatchObject({ end: 'closed', readBytes: 512 });
  });

  it('ends on NBD_OPT_ABORT, on an oversized request, and when cancelled', async () => {
    const a = session(false);
    await a.client.greeting();
    a.client.option(NBD_OPT.ABORT);
    expect((await a.client.optReply()).type).toBe(1);
    expect((await a.served).end).toBe('abort');

    const b = session(true);
    await b.client.greeting();
    await b.client.go();
    b.client.request(NBD_CMD.WRITE, 0, 64 * 1024 * 1024, 1n);
    await expect(b.served).rejects.toThrow(/a write of 67108864 bytes/);

    const controller = new AbortController();
    const c = session(false, memoryBackend(), controller.signal);
    await c.client.greeting();
    await c.client.go();
    controller.abort();
    expect((await c.served).end).toBe('cancelled');
  });
});
