/**
 * Where the user's own tools/ods-sd (ods-player-os-atlas) keeps things, as that script writes them:
 *   ~/Documents/GitHub/ods-player-os-atlas/              the checkout (its scripts/ is the payload)
 *   ~/Documents/GitHub/ods-player-os-atlas/clones/NAME/  a clone set: partition-table.dump (sfdisk
 *       --dump of a loop device), sdc1-boot.partclone.gz, sdc2-root.partclone.gz and restore.sh (a
 *       copy of ods-sd itself); no manifest
 *   clone-YYYYMMDD_HHMMSS                                 the name of a clone given none
 *   /tmp/lima-sd-work                                     its scratch folder, shared with its VM
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function odsSdCheckout(home: string = homedir()): string {
  return join(home, 'Documents', 'GitHub', 'ods-player-os-atlas');
}

export function odsSdClonesDir(home: string = homedir()): string {
  return join(odsSdCheckout(home), 'clones');
}

export const ODS_SD_WORK_DIR = '/tmp/lima-sd-work';

/** The restore script ods-sd copies into each set (ours is restore_golden.sh). */
export const ODS_SD_RESTORE_SCRIPT = 'restore.sh';

/** `clone-20260305_141502`: the name ods-sd gives a clone when none is given (local time). */
export function dateCloneName(now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `clone-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}
