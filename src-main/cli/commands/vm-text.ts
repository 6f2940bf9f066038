/** The atlas-build VM's state and the doctor's checks as `ods-sd vm` prints them. */
import type { DoctorReport } from '../../core/lima/doctor.js';
import type { VmInfo } from '../../core/lima/vm.js';
import { bytes } from '../format.js';
import { cliHint } from '../next-steps.js';

export function statusText(i: VmInfo): string {
  const hw = [
    i.vmType,
    i.arch,
    i.cpus ? `${i.cpus} CPUs` : undefined,
    i.memoryBytes ? `${bytes(i.memoryBytes)} memory` : undefined,
    i.diskBytes ? `${bytes(i.diskBytes)} disk` : undefined,
  ].filter(Boolean);
  const lines = [
    `${i.name}: ${i.state === 'missing' ? 'not created' : i.state}${hw.length ? ` (${hw.join(', ')})` : ''}`,
  ];
  for (const f of i.sharedFolders) {
    lines.push(`  shares ${f.host} as ${f.guest} (${f.writable ? 'read-write' : 'read-only'})`);
  }
  if (i.cause) lines.push(`  cause: ${i.cause}`);
  else if (i.lastLogError) lines.push(`  last error in ha.stderr.log: ${i.lastLogError}`);
  if (i.state === 'missing') lines.push('  create it with: ods-sd vm setup');
  if (i.state === 'Stopped') lines.push('  start it with: ods-sd vm start');
  return lines.join('\n');
}

/** A check's fix with its next steps, in the CLI's words. */
const fixOf = (c: DoctorReport['checks'][number]) => cliHint({ hint: c.fix, next: c.next });

export function doctorText(r: DoctorReport): string {
  const lines = r.checks.map((c) => {
    const mark = c.ok ? '✅' : c.skipped ? '⏭️ ' : '❌';
    const fix = fixOf(c);
    return `${mark} ${c.title}: ${c.detail}${!c.ok && fix ? `\n     fix: ${fix}` : ''}`;
  });
  lines.push(
    failedCount(r) === 0
      ? 'Everything is ready.'
      : `${failedCount(r)} of ${r.checks.length} checks did not pass.`,
  );
  return lines.join('\n');
}

export function failedCount(r: DoctorReport): number {
  return r.checks.filter((c) => !c.ok).length;
}

/** The doctor's report for --json: each fix worded as the CLI words it, its steps kept as data. */
export function doctorJson(r: DoctorReport): DoctorReport {
  return {
    ...r,
    checks: r.checks.map((c) => {
      const fix = fixOf(c);
      return fix === undefined ? c : { ...c, fix };
    }),
  };
}
