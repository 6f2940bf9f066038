/**
 * The seed's phase lifecycle, with what the library holds at each phase:
 * Insert (Phase 0 golden images) -> Clone (Phase 1 clone sets) -> Shrink (Phase 2 clone images)
 * -> deploy (flash cards).
 */
import type { LibraryItem, Screen } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { bytes } from '../lib/format';

interface Stage {
  phase: string;
  title: string;
  what: string;
  kind: LibraryItem['kind'] | null;
  action: string;
  screen: Screen;
}

const STAGES: Stage[] = [
  {
    phase: 'Phase 0',
    title: 'Insert',
    what: 'Base Armbian + firstboot payload → golden image',
    kind: 'golden-image',
    action: 'Build a golden image',
    screen: 'insert',
  },
  {
    phase: 'Phase 1',
    title: 'Clone',
    what: 'Provisioned card → safety-net clone set (partclone)',
    kind: 'clone-set',
    action: 'Clone or restore a card',
    screen: 'clone',
  },
  {
    phase: 'Phase 2',
    title: 'Verify + Shrink',
    what: 'Checked card → Etcher-ready image that grows on first boot',
    kind: 'clone-image',
    action: 'Verify and shrink',
    screen: 'shrink',
  },
  {
    phase: 'Deploy',
    title: 'Flash',
    what: 'Any image → SD cards, verified; then first boot → enrollment → production',
    kind: null,
    action: 'Flash cards',
    screen: 'flash',
  },
];

export function PhaseLifecycle() {
  const items = useStore((s) => s.library?.items);
  const setScreen = useStore((s) => s.setScreen);
  return (
    <ol className="lifecycle" aria-label="Phase lifecycle">
      {STAGES.map((stage) => {
        const here = stage.kind ? (items ?? []).filter((i) => i.kind === stage.kind) : [];
        const newest = [...here].sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt)).slice(0, 3);
        return (
          <li key={stage.title} className={`stage stage-${stage.screen}`}>
            <div className="stage-phase">{stage.phase}</div>
            <h3>{stage.title}</h3>
            <p className="stage-what">{stage.what}</p>
            {stage.kind ? (
              <div className="stage-items">
                <div className="stage-count">
                  {here.length === 0 ? 'none yet' : `${here.length} in the library`}
                </div>
                <ul>
                  {newest.map((i) => (
                    <li key={i.path} title={i.path}>
                      <span className="mono">{i.name}</span>
                      <span className="muted"> · {bytes(i.bytes)}</span>
                    </li>
                  ))}
                </ul>
              </div>
            ) : (
              <div className="stage-items">
                <div className="stage-count">golden or clone images → cards</div>
              </div>
            )}
            <button type="button" className="button secondary small" onClick={() => setScreen(stage.screen)}>
              {stage.action}
            </button>
          </li>
        );
      })}
    </ol>
  );
}
