/**
 * The list of cards in the readers, from core/cards/drive-list.ts: every disk with the host
 * layer's reasons when it must not be written, identified the way the phases identify a card.
 */
import { identifyRawCard } from '../core/card-io/card-reads.js';
import { listCards, type DriveCandidate, type ListCardsOptions } from '../core/cards/drive-list.js';
import type { CardCandidate, CardRef } from '../common/contract.js';
import { reasonOf, toRef } from './card-checks.js';
import { formatBytes } from '../common/format-bytes.js';

/** A drive-list candidate as the renderer's card: identified as the phases will identify it. */
export async function toCardCandidate(d: DriveCandidate): Promise<CardCandidate> {
  const reasons = [...d.reasons];
  let ref: CardRef;
  try {
    ref = toRef(await identifyRawCard(d.device));
  } catch (e) {
    reasons.push(reasonOf(e));
    ref = { path: d.device, kind: 'device', bytes: d.size, node: 0 };
  }
  const details = [d.model, d.serial].filter(Boolean).join(' ');
  return {
    ref,
    description: `${d.device} ${details || d.description} (${formatBytes(d.size, { unit: 'GB' })})`,
    removable: d.removable,
    readOnly: d.readOnly,
    usable: reasons.length === 0,
    reasons,
    ...(d.confirm ? { confirm: d.confirm } : {}),
  };
}

/** Every disk from drive-list.ts, virtual ones (zram, swap) left out; system disks stay, with their reasons. */
export async function listCardCandidates(options: ListCardsOptions = {}): Promise<CardCandidate[]> {
  const drives = (await listCards(options)).filter((d) => !d.isVirtual || options.allowVirtual);
  return Promise.all(drives.map(toCardCandidate));
}
