// Every long phase announces its steps before it starts, with the bytes each will move where they
// are known, and then runs exactly those steps: run for real as root on card images, through the
// app's job registry, the job's one progress never goes back.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JobRegistry, type JobSpec } from '../../src-main/app/job-registry.js';
import { LocalBuilder } from '../../src-main/core/builder/local-builder.js';
import type { JobContext, PlannedStep } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { erase } from '../../src-main/core/phases/erase.js';
import { flash } from '../../src-main/core/phases/flash.js';
import { insert } from '../../src-main/core/phases/insert.js';
import { restore } from '../../src-main/core/phases/restore.js';
import { shrink } from '../../src-main/core/phases/shrink.js';
import { verify } from '../../src-main/core/phases/verify.js';
import { overallProgress } from '../../src-renderer/lib/job-progress.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';

const MiB = 1024 * 1024;

interface Run {
  plan: PlannedStep[] | undefined;
  steps: string[];
  percents: number[];
}

/** Runs one phase as the app does, and records its plan, its steps and its one percent. */
async function run(phase: (ctx: JobContext) => Promise<unknown>): Promise<Run> {
  const reg = new JobRegistry({ progressIntervalMs: 0 });
  const out: Run = { plan: undefined, steps: [], percents: [] };
  let id = '';
  reg.subscribe((e) => {
    if (e.type === 'plan') out.plan = e.steps;
    if (e.type === 'step') out.steps.push(e.step.id);
    if (e.type === 'plan' || e.type === 'step' || e.type === 'progress') {
      out.percents.push(overallProgress(reg.get(id)!).percent ?? 0);
    }
  });
  const started = reg.start({
    request: { kind: 'verify', card: 'test' },
    title: 'phase',
    locks: [],
    run: phase as JobSpec['run'],
  });
  id = started.id;
  const end = await reg.settled(id);
  expect(end.state, JSON.stringify(end.error)).toBe('done');
  return out;
}

/**
 * The plan came first, names the steps that ran in their order, and the percent only grew, to
 * `last` in the last step (100 where the last step reports bytes, or has none left to weigh).
 */
function expectFollowed(r: Run, ids: string[], last = 100): void {
  expect(r.plan?.map((p) => p.id)).toEqual(ids);
  expect(r.steps).toEqual(ids);
  expect(r.percents[0]).toBe(0);
  for (let i = 1; i < r.percents.length; i++)
    expect(r.percents[i]).toBeGreaterThanOrEqual(r.percents[i - 1]!);
  expect(r.percents.at(-1)).toBe(last);
}

const bytesOf = (r: Run, id: string) => r.plan?.find((p) => p.id === id)?.bytes;

function emptyCard(path: string, bytes: number): string {
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(bytes), path]);
  return path;
}

describe('the plans of the phases', () => {
  let dir: string;
  let lib: string;
  let env: { builder: LocalBuilder; library: string };
  let dev: string;

  beforeAll(() => {
    dir = scratch('job-plans');
    lib = join(dir, 'atlas-build');
    mkdirSync(lib);
    env = { builder: new LocalBuilder(), library: lib };
    dev = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'dev-card.img');
  });

  it('insert: copy and checksum weigh the base image', async () => {
    const base = copyFixture(fixture('base'), dir, 'Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img');
    const payload = join(dir, 'payload');
    mkdirSync(payload);
    writeFileSync(join(payload, 'atlas_firstboot.sh'), '#!/bin/bash\necho hi\n');
    writeFileSync(
      join(payload, 'atlas-firstboot.service'),
      '[Unit]\nDescription=x\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/atlas_firstboot.sh\n[Install]\nWantedBy=multi-user.target\n',
    );
    const secrets = join(dir, 'atlas_secrets.conf');
    writeFileSync(secrets, 'ROOT_PASSWORD="pw"\n', { mode: 0o600 });
    const r = await run((ctx) => insert(env, { base, payload, secrets, version: '1.0.0', tag: 'PLAN' }, ctx));
    expectFollowed(r, ['copy', 'inspect', 'check', 'inject', 'cmdline', 'checksum']);
    const size = Number(execFileSync('stat', ['-c', '%s', base], { encoding: 'utf8' }));
    expect(bytesOf(r, 'copy')).toBe(size);
    expect(bytesOf(r, 'checksum')).toBe(size);
  });

  it('clone, then restore onto as large a card and onto a smaller one', { timeout: 300_000 }, async () => {
    const c = await run((ctx) => clone(env, { card: dev, name: 'v1-0-0-PLAN' }, ctx));
    expectFollowed(c, ['identify', 'unmount', 'table', 'clone-boot', 'clone-root', 'checksum']);

    const same = emptyCard(join(dir, 'same-card.img'), 1024 * MiB);
    const r = await run((ctx) => restore(env, { card: same, set: 'v1-0-0-PLAN', eject: false }, ctx));
    expectFollowed(r, ['check', 'unmount', 'invalidate', 'restore-boot', 'restore-root', 'table', 'grow']);
    expect(bytesOf(r, 'restore-boot')).toBe(512 * MiB);

    const small = emptyCard(join(dir, 'small-card.img'), 600 * MiB);
    const s = await run((ctx) => restore(env, { card: small, set: 'v1-0-0-PLAN', eject: false }, ctx));
    expectFollowed(s, [
      'check',
      'fit-restore',
      'fit-check',
      'fit-shrink',
      'unmount',
      'invalidate',
      'restore-boot',
      'restore-root',
      'table',
      'grow',
    ]);
  });

  it('verify, shrink (plain and compressed), flash, erase', { timeout: 300_000 }, async () => {
    const v = await run((ctx) => verify(env, { card: dev }, ctx));
    // One step that moves no bytes: the plan counts it, and it is the job's first of one.
    expectFollowed(v, ['probe'], 0);

    const shrunkSteps = [
      'map-used',
      'read-used',
      'probe',
      'check',
      'resize-service',
      'shrink-fs',
      'shrink-partition',
      'verify',
      'truncate',
      'bmap',
    ];
    const plain = await run((ctx) => shrink(env, { card: dev, version: '1.0.0', tag: 'PLAN' }, ctx));
    // A plain image's checksum comes from the block map's read: no step of its own.
    expectFollowed(plain, shrunkSteps);
    const zst = await run((ctx) =>
      shrink(env, { card: dev, version: '1.0.0', tag: 'ZST', compress: 'zst' }, ctx),
    );
    expectFollowed(zst, [...shrunkSteps.slice(0, -2), 'zero-free', 'truncate', 'bmap', 'compress']);

    const image = join(lib, 'ods-atlas-clone-v1-0-0-PLAN.img');
    const card = emptyCard(join(dir, 'flash-card.img'), 1024 * MiB);
    const f = await run((ctx) => flash(env, { image, cards: [card], eject: false }, ctx));
    expectFollowed(f, ['prepare', 'write', 'verify']);
    expect(bytesOf(f, 'write')).toBeGreaterThan(0);
    expect(bytesOf(f, 'write')).toBe(bytesOf(f, 'verify'));

    // A card smaller than the image: the image is first made for it (fit_image.sh).
    const small = emptyCard(join(dir, 'flash-small.img'), 600 * MiB);
    const fit = await run((ctx) => flash(env, { image: dev, cards: [small], eject: false }, ctx));
    expectFollowed(fit, ['prepare', 'fit-copy', 'fit-check', 'fit-shrink', 'fit-build', 'write', 'verify']);
    expect(bytesOf(fit, 'fit-build')).toBe(600 * MiB);

    const e = await run((ctx) => erase(env, { card, eject: false }, ctx));
    expectFollowed(e, ['check', 'erase-image', 'write', 'verify']);
  });
});
