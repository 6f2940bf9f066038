// The CLI's words for the core's next steps: every kind has them, and the errors the core raises
// print the hint lines the CLI has always printed ("pass --force", "ods-sd vm start").
import { describe, expect, it } from 'vitest';
import { NEXT_STEP_KINDS } from '../../src-main/common/next-steps.js';
import { SAMPLE_STEPS } from '../helpers/next-steps.js';
import { cliErrorJson, cliErrorText, cliHint, cliStep } from '../../src-main/cli/next-steps.js';
import { AtlasError, toAtlasError } from '../../src-main/core/errors.js';
import { vmNotRunning } from '../../src-main/core/lima/limactl.js';
import { doctorJson } from '../../src-main/cli/commands/vm-text.js';
import type { DoctorReport } from '../../src-main/core/lima/doctor.js';

describe("the CLI's next steps", () => {
  it('words every kind, each differently', () => {
    expect(Object.keys(SAMPLE_STEPS).sort()).toEqual([...NEXT_STEP_KINDS].sort());
    const words = NEXT_STEP_KINDS.map((k) => cliStep(SAMPLE_STEPS[k]));
    for (const w of words) expect(w.length).toBeGreaterThan(10);
    expect(new Set(words).size).toBe(words.length);
  });

  it('names its own commands and flags, with the values a step carries', () => {
    expect(cliStep({ do: 'force' })).toMatch(/pass --force/);
    expect(cliStep({ do: 'vm-start' })).toMatch(/ods-sd vm start/);
    expect(cliStep({ do: 'vm-doctor' })).toMatch(/ods-sd vm doctor/);
    expect(cliStep({ do: 'run-as-root' })).toMatch(/sudo ods-sd/);
    expect(cliStep({ do: 'confirm-large-disk' })).toMatch(/--allow-large-disk/);
    expect(cliStep(SAMPLE_STEPS['give-secrets'])).toBe(
      'pass --secrets FILE, or put it at /lib/scripts/atlas_secrets.conf (never in git)',
    );
    expect(cliStep(SAMPLE_STEPS['vm-recreate'])).toMatch(
      /^recreate the atlas-build VM from Atlas Imager's template: ods-sd vm recreate --library \/Users\/me\/atlas-build \(it says what is lost and asks first/,
    );
    expect(cliStep({ do: 'vm-recreate', instance: 'atlas-build' })).toMatch(
      /ods-sd vm recreate --library DIR \(/,
    );
    expect(cliStep(SAMPLE_STEPS['recreate-secrets'])).toMatch(/--import-secrets .* or --discard-secrets/);
    expect(cliStep({ do: 'choose-library', inside: '/Users/me' })).toBe('use a --library inside /Users/me');
  });

  it("prints the core's advice, then the steps, as the hint line", () => {
    const e = new AtlasError(
      'checklist-failed',
      'the Phase 1 checklist failed (ssh): not shrinking',
      'finish Phase 1 on the device first',
      {
        next: [{ do: 'show-checklist' }, { do: 'force' }],
      },
    );
    expect(cliErrorText(e)).toBe(
      'error: the Phase 1 checklist failed (ssh): not shrinking\n' +
        'hint: finish Phase 1 on the device first; ods-sd verify shows the evidence; or pass --force to shrink anyway\n',
    );
    expect(cliErrorText(new AtlasError('not-found', 'no such card'))).toBe('error: no such card\n');
    expect(cliErrorText(vmNotRunning('atlas-build', { state: 'Stopped' }))).toMatch(
      /\nhint: start it: ods-sd vm start/,
    );
    expect(cliHint(toAtlasError(Object.assign(new Error('x'), { code: 'ENOSPC' })))).toBe(
      'free some space; or choose another --out-dir/--library',
    );
    expect(cliHint(toAtlasError(Object.assign(new Error('x'), { code: 'EACCES' })))).toBe(
      'run ods-sd as root (sudo ods-sd …)',
    );
  });

  it('--json carries the hint in its words and the steps as data', () => {
    const e = vmNotRunning('atlas-build', { state: 'missing' });
    expect(e.toJSON()).toEqual({
      code: 'not-found',
      message: 'the atlas-build VM does not exist',
      next: [{ do: 'vm-setup' }],
    });
    expect(cliErrorJson(e.toJSON())).toEqual({
      code: 'not-found',
      message: 'the atlas-build VM does not exist',
      hint: 'create the VM: ods-sd vm setup',
      next: [{ do: 'vm-setup' }],
    });
    expect(cliErrorJson({ code: 'busy', message: 'held', hint: 'wait' })).toEqual({
      code: 'busy',
      message: 'held',
      hint: 'wait',
    });
  });

  it("words the doctor's fixes in --json as it prints them, keeping the steps as data", () => {
    const report = {
      checks: [
        { id: 'vm', title: 'the atlas-build VM', ok: false, detail: 'Stopped', next: [{ do: 'vm-start' }] },
        { id: 'disk-space', title: 'free space', ok: false, detail: '2 GB free', fix: 'free some space' },
        { id: 'raw-disk', title: 'access to SD cards', ok: true, detail: 'running as root' },
      ],
    } as DoctorReport;
    const [vm, space, raw] = doctorJson(report).checks;
    expect(vm).toMatchObject({ fix: cliStep({ do: 'vm-start' }), next: [{ do: 'vm-start' }] });
    expect(space?.fix).toBe('free some space');
    expect(raw).toBe(report.checks[2]);
    expect(report.checks[0]).not.toHaveProperty('fix');
  });
});
