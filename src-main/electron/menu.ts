/**
 * The application menu: the macOS app menu, Go (one item per wizard screen, ⌘1…⌘7), the
 * standard Edit/View/Window menus. DevTools and reload only in development.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { Screen } from '../common/contract.js';

export interface MenuActions {
  navigate(screen: Screen): void;
}

const SCREENS: Array<[Screen, string]> = [
  ['home', 'Home'],
  ['insert', 'Insert (Phase 0)'],
  ['flash', 'Flash'],
  ['clone', 'Clone / Restore (Phase 1)'],
  ['shrink', 'Verify + Shrink (Phase 2)'],
  ['library', 'Library'],
  ['vm', 'Build VM'],
];

export function menuTemplate(
  platform: string,
  isDev: boolean,
  actions: MenuActions,
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const go: MenuItemConstructorOptions = {
    label: 'Go',
    submenu: SCREENS.map(([screen, label], i) => ({
      label,
      accelerator: `CmdOrCtrl+${i + 1}`,
      click: () => actions.navigate(screen),
    })),
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...(isDev
        ? ([
            { role: 'reload' },
            { role: 'toggleDevTools' },
            { type: 'separator' },
          ] as MenuItemConstructorOptions[])
        : []),
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
  return [
    ...(mac
      ? [
          {
            label: 'Atlas Imager',
            submenu: [
              { role: 'about' },
              { type: 'separator' },
              { role: 'services' },
              { type: 'separator' },
              { role: 'hide' },
              { role: 'hideOthers' },
              { role: 'unhide' },
              { type: 'separator' },
              { role: 'quit' },
            ],
          } as MenuItemConstructorOptions,
        ]
      : []),
    { label: 'File', submenu: [mac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    view,
    go,
    { role: 'windowMenu' },
  ];
}
