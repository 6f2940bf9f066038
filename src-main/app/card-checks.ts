/**
 * Cards as the renderer sees them: a picked card (device or image file) with the host layer's
 * safety rules applied and their reasons kept, so the UI shows why a card cannot be written
 * instead of hiding it. Before a job writes a card, the card is identified again and must still
 * be the one the user picked.
 */
import { identifyRawCard } from '../core/card-io/card-reads.js';
import { stat } from 'node:fs/promises';
import { toAtlasError } from '../core/errors.js';
import { assertWritableCard, describeCard, type CardIdentity } from '../core/cards/card.js';
import { detectCompression, uncompressedSize } from '../core/images/compression.js';
import {
  checkTarget,
  recheckCard,
  type ProtectedPlace,
  type TargetReason,
} from '../core/cards/target-guards.js';
import type { CardCandidate, CardRef, FlashCheck } from '../common/contract.js';
import type { Places } from './library-view.js';
import { protectedFileReason } from '../core/cards/protected-files.js';
import { closeSource, openSource } from '../core/write/open-source.js';
import { notPiImage } from '../core/write/pi-layout.js';

/** The places of the app whose disks are never written. */
export function protectedPlaces(p: Places): ProtectedPlace[] {
  return [
    { what: 'the library', path: p.library },
    { what: 'the staging folder', path: p.stagingDir },
    { what: 'the archive', path: p.archiveDir },
  ];
}

/** target-guards' reasons for a device card, split into refusals and the one needing a confirmation. */
async function guardOf(
  card: CardIdentity,
  places: ProtectedPlace[],
): Promise<{ refusals: string[]; confirm?: string }> {
  if (card.kind !== 'device') {
    const kept = await protectedFileReason(card.path, places);
    return {
      refusals: kept ? [`${card.path} ${kept} — what the library keeps is never written as a card`] : [],
    };
  }
  const reasons: TargetReason[] = await checkTarget(card.path, { places }).catch((e: unknown) => [
    {
      severity: 'refuse' as const,
      message: `could not be checked: ${(e as Error).message}`,
      hint: 'insert the card again',
    },
  ]);
  const confirm = reasons.find((r) => r.severity === 'confirm');
  return {
    refusals: reasons
      .filter((r) => r.severity === 'refuse')
      .map((r) => `${card.path} ${r.message} — ${r.hint}`),
    ...(confirm ? { confirm: confirm.message } : {}),
  };
}

export function toRef(card: CardIdentity): CardRef {
  const ref: CardRef = { path: card.path, kind: card.kind, bytes: card.bytes, node: card.node };
  if (card.model) ref.model = card.model;
  if (card.serial) ref.serial = card.serial;
  if (card.medium) ref.medium = card.medium;
  if (card.table) ref.table = card.table;
  return ref;
}

/** A reason as one sentence: what is wrong, then what to do. */
export function reasonOf(err: unknown): string {
  const e = toAtlasError(err);
  return e.hint ? `${e.message} — ${e.hint}` : e.message;
}

export async function identifyCandidate(path: string, places: ProtectedPlace[] = []): Promise<CardCandidate> {
  const card = await identifyRawCard(path);
  const reasons: string[] = [];
  await assertWritableCard(card, 0).catch((e: unknown) => reasons.push(reasonOf(e)));
  const guard = await guardOf(card, places);
  reasons.push(...guard.refusals);
  return {
    ref: toRef(card),
    description: describeCard(card),
    removable: card.removable ?? card.kind === 'file',
    readOnly: card.readOnly ?? false,
    usable: reasons.length === 0,
    reasons,
    ...(guard.confirm ? { confirm: guard.confirm } : {}),
  };
}

/**
 * The card the user picked, identified now; refuses when it was removed or swapped since. The
 * result is what the phases get as `expected`, so they check it once more right before writing.
 */
export async function pickedCard(ref: CardRef): Promise<CardIdentity> {
  const expected: CardIdentity = { ...ref };
  await recheckCard(expected);
  return identifyRawCard(ref.path);
}

/** Can `image` be flashed onto each of `cards`? Every refusal keeps its reason. */
export async function flashCheck(
  image: string,
  cards: CardRef[],
  places: ProtectedPlace[] = [],
): Promise<FlashCheck[]> {
  const st = await stat(image).catch(() => undefined);
  const compression = st?.isFile() ? await detectCompression(image) : 'none';
  const needed = !st
    ? 0
    : compression === 'none'
      ? st.size
      : ((await uncompressedSize(image, compression)) ?? 0);
  // What is wrong with the image itself (truncated, not a Raspberry Pi image) stops every card.
  const imageReason = !st?.isFile()
    ? `no image at ${image}`
    : await openSource(image, { map: false }).then(
        async (s) => {
          await closeSource(s);
          return s.layoutProblem ? reasonOf(notPiImage(image, s.layoutProblem)) : undefined;
        },
        (e: unknown) => reasonOf(e),
      );
  return Promise.all(
    cards.map(async (ref): Promise<FlashCheck> => {
      const reasons: string[] = [];
      let confirm: string | undefined;
      if (imageReason) reasons.push(imageReason);
      try {
        const card = await pickedCard(ref);
        if (card.kind === 'file' && st && card.node === st.ino) {
          reasons.push('the card and the image are the same file — pick another card');
        }
        await assertWritableCard(card, needed);
        const guard = await guardOf(card, [...places, { what: 'the source image', path: image }]);
        reasons.push(...guard.refusals);
        confirm = guard.confirm;
      } catch (e) {
        reasons.push(reasonOf(e));
      }
      return { card: ref, usable: reasons.length === 0, reasons, ...(confirm ? { confirm } : {}) };
    }),
  );
}
