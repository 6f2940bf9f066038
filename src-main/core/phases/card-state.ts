/**
 * Which phase a card or image is in, told from files on its root file system alone (the facts
 * come from probe_root.sh). Markers, as written by inject_atlas.sh and atlas_firstboot.sh:
 *   /usr/local/bin/atlas_firstboot.sh, /var/lib/ods/atlas_firstboot_pending   payload injected
 *   /var/lib/ods/phase = 2                                                     Phase 1 ran
 *   /home/signage/ODS                                                          ODS deployed
 */
import type { Fact, Probe } from '../checklist/checklist.js';
import { type CardState } from '../../common/cards.js';
export { type CardState } from '../../common/cards.js';

export const STATE_PROBES: Probe[] = [
  { id: 'firstboot', kind: 'stat', path: '/usr/local/bin/atlas_firstboot.sh' },
  { id: 'gate', kind: 'stat', path: '/var/lib/ods/atlas_firstboot_pending' },
  { id: 'phase', kind: 'stat', path: '/var/lib/ods/phase' },
  { id: 'ods', kind: 'stat', path: '/home/signage/ODS' },
  { id: 'secrets', kind: 'stat', path: '/usr/local/etc/atlas_secrets.conf' },
  { id: 'usr', kind: 'stat', path: '/usr' },
];

export const STATE_TEXT: Record<CardState, string> = {
  base: 'base Armbian image (no Atlas payload): input of Phase 0 Insert',
  golden: 'Phase 0 golden image (payload injected, first boot not run yet)',
  provisioned: 'provisioned card (Phase 1 first boot complete): ready for verify, clone and shrink',
  enrolled: 'enrolled device (Phase 2 ran)',
  unknown: 'not an Armbian root file system',
};

export function stateFromFacts(facts: Map<string, Fact>): CardState {
  const has = (id: string) => facts.get(id)?.exists === true;
  if (!has('usr')) return 'unknown';
  const phase = facts.get('phase')?.content?.trim();
  if (phase === '2') return 'provisioned';
  if (has('ods')) return has('gate') ? 'provisioned' : 'enrolled';
  if (has('firstboot') || has('gate')) return 'golden';
  return 'base';
}
