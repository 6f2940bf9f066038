// The clone's one pass, where the builder cannot see the card: the copy makes the root's image and
// the builder's script reads it. When the script fails, before reading a byte or halfway, the clone
// ends at once with the script's own reason (never "the builder stopped taking the image"), and
// leaves no set, no .partial and no staged copy. A builder standing in for the VM runs nothing.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, scratch } from '../helpers/fixtures.js';
import { AtlasError } from '../../src-main/core/errors.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import type { Builder, BuilderScript, ScriptOutcome } from '../../src-main/core/builder/builder.js';

let dir: string;
let library: string;

beforeAll(() => {
  dir = scratch('one-pass');
  library = join(dir, 'library');
  mkdirSync(library);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const outcome = (results: Record<string, string[]> = {}): ScriptOutcome => ({
  events: [],
  results: new Map(Object.entries(results)),
  log: [],
});

/** A builder that sees the library only, and whose clone script does `onClone` with its stdin. */
function vmLike(onClone: (stdin: Readable | undefined) => Promise<ScriptOutcome>): Builder {
  return {
    kind: 'lima',
    seesHostDevices: false,
    describe: () => 'a builder that sees the library only',
    toBuilderPath: (p) => {
      const abs = resolve(p);
      if (!abs.startsWith(`${library}/`) && abs !== library)
        throw new AtlasError('bad-input', `${abs} is not shared`);
      return abs;
    },
    stageSecrets: async (f) => f,
    runScript: async (script: BuilderScript, _args, _ctx, options) => {
      if (script === 'tool_versions.sh') return outcome({ tool: ['partclone 0.3.23'] });
      if (script === 'clone_card.sh') return onClone(options?.stdin);
      return outcome();
    },
  };
}

async function failedClone(builder: Builder, name: string): Promise<{ error: unknown; seconds: number }> {
  const t0 = Date.now();
  const card = fixture('provisioned', { fillMiB: 24 });
  const error = await startJob('clone', (ctx) =>
    clone({ builder, library }, { card, name }, ctx),
  ).promise.catch((e: unknown) => e);
  return { error, seconds: (Date.now() - t0) / 1000 };
}

function nothingLeft(name: string): void {
  expect(existsSync(join(library, `golden-clone-${name}`))).toBe(false);
  expect(existsSync(join(library, `golden-clone-${name}.partial`))).toBe(false);
  expect(readdirSync(join(library, '.atlas-tmp'))).toEqual([]);
}

describe('the one-pass clone when the builder’s script fails', () => {
  it('before reading its image: the script’s reason, at once', { timeout: 120_000 }, async () => {
    const vmGone = new AtlasError('tool-failed', 'could not reach the atlas-build VM');
    const { error, seconds } = await failedClone(
      vmLike(async () => {
        throw vmGone;
      }),
      'never-read',
    );
    expect(error).toBe(vmGone);
    expect(seconds).toBeLessThan(60);
    nothingLeft('never-read');
  });

  it('halfway through its image: the script’s reason, not the image’s', { timeout: 120_000 }, async () => {
    const noSpace = new AtlasError('no-space', 'the root image does not fit in the library');
    const { error } = await failedClone(
      vmLike(async (stdin) => {
        let read = 0;
        await new Promise<void>((done) => {
          stdin!.on('data', (c: Buffer) => {
            read += c.length;
            if (read > 4 << 20) {
              stdin!.destroy();
              done();
            }
          });
        });
        throw noSpace;
      }),
      'half-read',
    );
    expect(error).toBe(noSpace);
    nothingLeft('half-read');
  });
});
