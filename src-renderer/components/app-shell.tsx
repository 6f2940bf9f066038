/** The window: the sidebar and the current screen. Loads the app's state once, on mount. */
import { useEffect } from 'react';
import type { Screen } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { ErrorBox } from './error-box';
import { CloneScreen } from './clone-screen';
import { EraseScreen } from './erase-screen';
import { FlashScreen } from './flash-screen';
import { HomeScreen } from './home-screen';
import { InsertScreen } from './insert-screen';
import { LibraryScreen } from './library-screen';
import { ShrinkScreen } from './shrink-screen';
import { Sidebar } from './sidebar';
import { VmScreen } from './vm-screen';

const SCREENS: Record<Screen, () => React.JSX.Element> = {
  home: HomeScreen,
  insert: InsertScreen,
  flash: FlashScreen,
  erase: EraseScreen,
  clone: CloneScreen,
  shrink: ShrinkScreen,
  library: LibraryScreen,
  vm: VmScreen,
};

export function AppShell() {
  const screen = useStore((s) => s.screen);
  const appError = useStore((s) => s.appError);
  const setAppError = useStore((s) => s.setAppError);
  const loadApp = useStore((s) => s.loadApp);
  const refreshLibrary = useStore((s) => s.refreshLibrary);
  const loadJobs = useStore((s) => s.loadJobs);

  useEffect(() => {
    void loadApp();
    void refreshLibrary();
    void loadJobs();
  }, [loadApp, refreshLibrary, loadJobs]);

  const Current = SCREENS[screen];
  return (
    <div className="app">
      <Sidebar />
      <main className="content">
        {appError && (
          <div className="app-error">
            <ErrorBox error={appError} />
            <button type="button" className="button link" onClick={() => setAppError(null)}>
              Dismiss
            </button>
          </div>
        )}
        <Current />
      </main>
    </div>
  );
}
