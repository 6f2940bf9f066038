import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  evaluate,
  parseChecklist,
  probesFor,
  probesToTsv,
  factFromFields,
  type Fact,
} from '../../src-main/core/checklist/checklist.js';
import { bytesNeededByDump } from '../../src-main/core/phases/restore.js';
import { stateFromFacts } from '../../src-main/core/phases/card-state.js';
import { ROOT } from '../helpers/fixtures.js';

const shipped = parseChecklist(
  JSON.parse(readFileSync(join(ROOT, 'resources', 'verify-checklist.json'), 'utf8')),
);

describe('verification checklist', () => {
  it('ships the seed checklist: all twelve items', () => {
    expect(shipped.checks.map((c) => c.label)).toEqual([
      'Phase',
      'Gate file',
      'Chromium',
      'node/npm/git',
      'RustDesk',
      'server.js',
      'node_modules',
      'ODS services',
      'Plymouth theme',
      'Machine-ID',
      'Firstboot enabled',
      'Resize service',
    ]);
  });

  it('deduplicates probes and writes them as tab-separated lines', () => {
    const probes = probesFor(shipped.checks);
    expect(new Set(probes.map((p) => `${p.kind}${p.path}`)).size).toBe(probes.length);
    const tsv = probesToTsv(probes);
    expect(tsv.split('\n')[0]).toMatch(/^p0\tstat\t\/var\/lib\/ods\/phase\t$/);
    expect(tsv).toContain('count-r\t/usr/share/plymouth/themes/ods\t*');
  });

  it('evaluates facts into ticks and crosses with evidence', () => {
    const probes = probesFor(shipped.checks);
    const facts = new Map<string, Fact>();
    for (const p of probes) facts.set(p.id, { exists: false });
    const set = (path: string, f: Fact) => facts.set(probes.find((p) => p.path === path)!.id, f);
    set('/var/lib/ods/phase', { exists: true, type: 'file', content: '2\n' });
    set('/home/signage/ODS/node_modules', { exists: true, count: 89 });
    set('/etc/machine-id', { exists: true, type: 'file', size: 33 });
    const r = evaluate(shipped, probes, facts);
    const by = Object.fromEntries(r.map((c) => [c.id, c]));
    expect(by['phase']).toMatchObject({ ok: true, evidence: ['/var/lib/ods/phase = "2"'] });
    expect(by['node-modules']).toMatchObject({
      ok: false,
      evidence: ['89 packages in /home/signage/ODS/node_modules (at least 90)'],
    });
    expect(by['machine-id']!.ok).toBe(false);
    expect(by['resize-service']).toMatchObject({ ok: false, severity: 'warn' });
  });

  it('counts node_modules as packages, with the threshold from the checklist file', () => {
    const probes = probesFor(shipped.checks);
    expect(probes.find((p) => p.path === '/home/signage/ODS/node_modules')?.kind).toBe('count-npm');
    const facts = new Map<string, Fact>(probes.map((p) => [p.id, { exists: false }]));
    facts.set(probes.find((p) => p.path === '/home/signage/ODS/node_modules')!.id, {
      exists: true,
      count: 93,
    });
    const nm = evaluate(shipped, probes, facts).find((c) => c.id === 'node-modules')!;
    expect(nm.ok).toBe(true);
  });

  it('a dangling symlink does not exist; a link resolving to the unit (absolute or relative) is enabled', () => {
    const list = parseChecklist({
      checks: [
        { id: 'chromium', label: 'Chromium', rule: { type: 'exists', path: '/usr/bin/chromium' } },
        {
          id: 'resize',
          label: 'Resize',
          rule: {
            type: 'symlink',
            path: '/etc/wants/resize.service',
            resolvesTo: '/lib/systemd/system/resize.service',
          },
        },
      ],
    });
    const probes = probesFor(list.checks);
    const id = (path: string) => probes.find((p) => p.path === path)!.id;
    const run = (chromium: Fact, link: Fact) => {
      const facts = new Map<string, Fact>([
        [id('/usr/bin/chromium'), chromium],
        [id('/etc/wants/resize.service'), link],
        [
          id('/lib/systemd/system/resize.service'),
          { exists: true, type: 'file', resolved: '/usr/lib/systemd/system/resize.service' },
        ],
      ]);
      return evaluate(list, probes, facts).map((c) => c.ok);
    };
    const link = (target: string, resolved = '/usr/lib/systemd/system/resize.service'): Fact => ({
      exists: true,
      type: 'symlink',
      target,
      ftype: 'file',
      resolved,
    });
    const broken: Fact = {
      exists: true,
      type: 'symlink',
      target: '/usr/lib/chromium/chromium',
      ftype: 'missing',
    };
    expect(run(broken, link('/lib/systemd/system/resize.service'))).toEqual([false, true]);
    expect(
      run({ exists: true, type: 'file', size: 9 }, link('/usr/lib/systemd/system/resize.service')),
    ).toEqual([true, true]);
    expect(run(broken, link('../../../usr/lib/systemd/system/resize.service'))).toEqual([false, true]);
    expect(
      run(broken, link('/lib/systemd/system/other.service', '/usr/lib/systemd/system/other.service')),
    ).toEqual([false, false]);
    expect(run(broken, { ...link('/lib/systemd/system/resize.service'), ftype: 'missing' })).toEqual([
      false,
      false,
    ]);
  });

  it('decodes probe facts (base64 content and link targets)', () => {
    expect(
      factFromFields({ exists: '1', type: 'symlink', target: Buffer.from('/dev/null').toString('base64') }),
    ).toEqual({
      exists: true,
      type: 'symlink',
      target: '/dev/null',
    });
  });

  it.each([
    [{ checks: [] }, /has no checks/],
    [{ checks: [{ id: 'a b', label: 'x', rule: { type: 'exists', path: '/x' } }] }, /unique id/],
    [{ checks: [{ id: 'a', label: 'x', rule: { type: 'exists', path: 'relative' } }] }, /absolute/],
    [{ checks: [{ id: 'a', label: 'x', rule: { type: 'nope', path: '/x' } }] }, /unknown rule type/],
    [
      { checks: [{ id: 'a', label: 'x', rule: { type: 'count', path: '/x', pattern: 'a/b' } }] },
      /bad pattern/,
    ],
    [
      { checks: [{ id: 'a', label: 'x', rule: { type: 'file-content', path: '/x', matches: '(' } }] },
      /regular expression/,
    ],
  ])('refuses a malformed checklist %#', (json, msg) => {
    expect(() => parseChecklist(json)).toThrow(msg);
  });
});

describe('card state from files', () => {
  const f = (entries: Record<string, Fact>) => new Map(Object.entries(entries));
  const usr = { exists: true, type: 'dir' as const };
  it('tells base, golden, provisioned and enrolled apart', () => {
    expect(stateFromFacts(f({ usr }))).toBe('base');
    expect(stateFromFacts(f({ usr, firstboot: { exists: true }, gate: { exists: true } }))).toBe('golden');
    expect(stateFromFacts(f({ usr, gate: { exists: true }, phase: { exists: true, content: '2\n' } }))).toBe(
      'provisioned',
    );
    expect(stateFromFacts(f({ usr, ods: { exists: true } }))).toBe('enrolled');
    expect(stateFromFacts(f({}))).toBe('unknown');
  });
});

describe('restore size check', () => {
  it('needs the end of the last partition (+ backup GPT)', () => {
    const dos =
      'label: dos\n/dev/sdc1 : start=        8192, size=     1048576, type=c\n/dev/sdc2 : start=     1056768, size=      327680, type=83\n';
    expect(bytesNeededByDump(dos)).toBe((1056768 + 327680) * 512);
    expect(bytesNeededByDump(dos.replace('dos', 'gpt'))).toBe((1056768 + 327680 + 33) * 512);
    expect(() => bytesNeededByDump('label: dos\n')).toThrow(/lists 0 partitions/);
  });
});
