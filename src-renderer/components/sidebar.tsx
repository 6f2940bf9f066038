/** The navigation: the wizard's screens in the order of the seed's phase lifecycle. */
import type { Screen } from '../../src-main/common/contract';
import { useStore } from '../store/store';

const ITEMS: Array<{ screen: Screen; label: string; phase?: string }> = [
  { screen: 'home', label: 'Home' },
  { screen: 'insert', label: 'Insert', phase: 'P0' },
  { screen: 'clone', label: 'Clone / Restore', phase: 'P1' },
  { screen: 'shrink', label: 'Verify + Shrink', phase: 'P2' },
  { screen: 'flash', label: 'Flash' },
  { screen: 'erase', label: 'Erase' },
  { screen: 'library', label: 'Library' },
  { screen: 'vm', label: 'Build VM' },
];

export function Sidebar() {
  const screen = useStore((s) => s.screen);
  const setScreen = useStore((s) => s.setScreen);
  const running = useStore((s) => Object.values(s.jobs).filter((j) => j.state === 'running').length);
  const builder = useStore((s) => s.info?.builder);
  return (
    <nav className="sidebar" aria-label="Screens">
      <div className="brand">
        <span className="brand-mark" aria-hidden>
          ◆
        </span>
        <span>Atlas Imager</span>
      </div>
      <ul>
        {ITEMS.map((item) => (
          <li key={item.screen}>
            <button
              type="button"
              className={item.screen === screen ? 'nav-item active' : 'nav-item'}
              aria-current={item.screen === screen ? 'page' : undefined}
              onClick={() => setScreen(item.screen)}
            >
              <span>{item.label}</span>
              {item.phase && <span className="nav-phase">{item.phase}</span>}
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot">
        {running > 0 && (
          <div className="running-count">
            {running} job{running > 1 ? 's' : ''} running
          </div>
        )}
        {builder && <div className="builder">Tools run on {builder}</div>}
      </div>
    </nav>
  );
}
