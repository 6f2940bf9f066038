/**
 * Reads a stream ahead of its consumer, up to a limit. A decompressor's output is a pipe with a
 * 64 KiB buffer: while a write to the card is awaited, the decompressor stops at once, so a
 * compressed image took the card's write time plus the decompression time. With a read-ahead the
 * decompressor works while the card writes, and the slower of the two sets the pace.
 */

export type ReadAheadSource = AsyncIterable<Buffer> & { destroy(): void };

/** `source`, read ahead by up to `limit` bytes (plus one chunk); `destroy` stops both. */
export function readAhead(source: ReadAheadSource, limit: number): ReadAheadSource {
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  const wake = (which: 'consumer' | 'pump') => {
    const w = which === 'consumer' ? wakeConsumer : wakePump;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakePump = undefined;
    w?.();
  };

  let started = false;
  const pump = async () => {
    try {
      for await (const chunk of source) {
        queue.push(chunk);
        queued += chunk.length;
        wake('consumer');
        while (queued >= limit && !stopped) await new Promise<void>((r) => (wakePump = r));
        if (stopped) break;
      }
    } catch (error) {
      if (!stopped) failure = { error };
    } finally {
      ended = true;
      wake('consumer');
    }
  };

  return {
    async *[Symbol.asyncIterator]() {
      // The source is first read when the consumer starts: its first output must not be missed.
      if (!started) {
        started = true;
        void pump();
      }
      for (;;) {
        const chunk = queue.shift();
        if (chunk) {
          queued -= chunk.length;
          if (queued < limit) wake('pump');
          yield chunk;
          continue;
        }
        if (failure) throw failure.error;
        if (ended) return;
        await new Promise<void>((r) => (wakeConsumer = r));
      }
    },
    destroy() {
      stopped = true;
      queue.length = 0;
      queued = 0;
      wake('pump');
      source.destroy();
    },
  };
}
