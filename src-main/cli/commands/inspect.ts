/** `ods-sd inspect`: what an image or a card holds, and which phase it looks like. */
import { inspect, type Inspection } from '../../core/phases/inspect.js';
import { defineCommand } from '../command.js';
import { bytes, shown, table } from '../format.js';

function inspectText(i: Inspection): string {
  const rows = [['#', 'start', 'size', 'type', 'fs', 'label', 'used']];
  for (const p of i.partitions) {
    rows.push([
      String(p.number),
      String(p.start),
      bytes(p.bytes),
      p.type,
      p.fs ?? '?',
      p.label ?? '',
      p.usedBytes === null ? '?' : bytes(p.usedBytes),
    ]);
  }
  const lines = [
    `${i.path}: ${i.kind === 'device' ? 'card' : 'image'}, ${bytes(i.bytes)}${i.compression !== 'none' ? ` (${i.compression})` : ''}, ${i.table} partition table`,
    table(rows),
    `Atlas payload: ${i.payloadPresent ? 'present' : 'absent'}`,
    `Looks like: ${i.stateText}`,
    ...i.problems.map((p) => `Problem: ${shown(p)}`),
  ];
  if (i.artifact)
    lines.push(
      `Name says: ${i.artifact.kind}, Phase ${i.artifact.phase}${i.manifest ? ' (manifest present)' : ''}`,
    );
  return lines.join('\n');
}

export const inspectCommand = defineCommand({
  name: 'inspect',
  summary: 'partition table, file systems, used space, payload and phase',
  positionals: [{ name: 'path', label: 'IMAGE|CARD' }],
  options: {},
  run: async ({ args, env, job }) => inspect(await env(), args.path, job),
  human: inspectText,
});
