/**
 * What a finished job made or did, in one or a few lines, for any kind of job: shown when a
 * recent job is opened again from Home.
 */
import type { EjectDto, JobOutcome } from '../../src-main/common/contract';
import { baseName, bytes } from '../lib/format';

function ejected(e: EjectDto | undefined): string {
  if (!e) return '';
  return e.ejected ? ' Ejected.' : ` Not ejected: ${e.message}`;
}

function lines(o: JobOutcome): string[] {
  switch (o.kind) {
    case 'inspect':
      return [`${baseName(o.result.path)}: ${o.result.stateText} (${bytes(o.result.bytes)}).`];
    case 'insert':
      return [`Golden image ${baseName(o.result.image)} (${bytes(o.result.bytes)}).`];
    case 'flash':
      return [
        `${baseName(o.result.image)} onto ${o.result.cards.length - o.result.failed} of ${o.result.cards.length} cards.`,
        ...o.result.cards.map((c) =>
          c.ok
            ? `${c.card}: ${c.verified ? 'written and verified' : 'written'}.${ejected(c.eject)}`
            : `${c.card}: ${c.error?.message ?? 'failed'}.`,
        ),
      ];
    case 'clone':
      return [`Clone set ${baseName(o.result.dir)} (${o.result.files.length} files).`];
    case 'restore':
      return [`${baseName(o.result.set)} restored onto ${o.result.card}.${ejected(o.result.eject)}`];
    case 'erase':
      return [`${o.result.card} erased: one FAT32 partition "${o.result.label}".${ejected(o.result.eject)}`];
    case 'verify':
      return [
        o.result.ok
          ? `${o.result.title}: every check passed.`
          : `${o.result.title}: ${o.result.failed} check${o.result.failed === 1 ? '' : 's'} failed.`,
      ];
    case 'shrink':
      return [`Clone image ${baseName(o.result.image)} (${bytes(o.result.bytes)}).`];
    case 'archive':
      return [o.result.alreadyArchived ? 'Already in the archive.' : `Archived to ${o.result.dest}.`];
    case 'stage':
      return [`Staged ${baseName(o.result.staged)} (${bytes(o.result.bytes)}).`];
    case 'vm-setup':
    case 'vm-start':
    case 'vm-stop':
      return [`The VM is ${o.result.state}: ${o.result.detail}`];
    case 'adopt':
      return [
        `Clone set ${baseName(o.result.dir)} adopted from ${o.result.from} (${o.result.files.length} files).`,
      ];
    case 'vm-recreate':
      return [
        `The VM ${o.result.instance} was recreated from the template: ${o.result.state}.`,
        ...(o.result.imported
          ? [`Imported ${o.result.imported.from} (settings: ${o.result.imported.keys.join(', ')}).`]
          : []),
        ...(o.result.discarded.length ? [`Deleted with the old VM: ${o.result.discarded.join(', ')}.`] : []),
      ];
    case 'vm-upgrade':
      return [
        `The VM ${o.result.instance}: ${o.result.installed.length ? `installed ${o.result.installed.join(', ')}` : 'no package was missing'}; ${o.result.mount.detail}`,
      ];
  }
}

export function JobResult({ outcome }: { outcome: JobOutcome }) {
  const [first, ...rest] = lines(outcome);
  return (
    <div className="result">
      <p>
        <strong>Result:</strong> {first}
      </p>
      {rest.length > 0 && (
        <ul className="job-result-lines">
          {rest.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
