/** The atlas-build VM's state and the doctor's checks as `ods-sd vm` prints them. */
import type { DoctorReport } from '../../core/lima/doctor.js';
import type { VmInfo } from '../../core/lima/vm.js';
import type { VmRecreatePreview, VmRecreateResult } from '../../core/lima/vm-recreate.js';
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

/** What recreating the VM would lose, before the question (and alone without --yes). */
export function recreatePreviewText(p: VmRecreatePreview): string {
  const lines = [`Recreating the ${p.instance} VM (${p.state}) from Atlas Imager's template deletes:`];
  for (const l of p.lost) lines.push(`  - ${l}`);
  if (p.secretsNotChecked)
    lines.push(`  atlas_secrets.conf inside it: not looked for yet (${p.secretsNotChecked})`);
  if (p.sharedFolders.length) lines.push(`Kept (on this computer): ${p.sharedFolders.join(', ')}`);
  if (p.protected) lines.push(`Lima protects it from removal: limactl unprotect ${p.instance} first`);
  return lines.join('\n');
}

export function recreateText(r: VmRecreateResult): string {
  const lines = [
    `Recreated the ${r.instance} VM from Atlas Imager's template: ${r.state}${r.libraryInVm ? `, the library is ${r.libraryInVm} in it` : ''}.`,
    `  deleted: the old VM${r.deleted.usedBytes !== undefined ? ` (${bytes(r.deleted.usedBytes)} on this computer)` : ''}`,
  ];
  if (r.imported) lines.push(`  imported ${r.imported.from} (settings: ${r.imported.keys.join(', ')})`);
  if (r.discarded.length) lines.push(`  deleted with it, as chosen: ${r.discarded.join(', ')}`);
  return lines.join('\n');
}
