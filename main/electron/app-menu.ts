import { Menu, shell, type MenuItem, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  chooseModel(): void;
  /** Opens the connection dialog: local model or a remote service. */
  showConnection(): void;
  showView(view: 'checker' | 'dashboard'): void;
  metricsUrl(): string | null;
  /** View > Alert Notifications: desktop notifications of alerts starting and ending (checked = shown). */
  alertNotifications?: { enabled(): boolean; setEnabled(enabled: boolean): void };
}

/** The application menu: model, connection, views, and the /metrics endpoint (opened in the system browser). */
export function buildAppMenu(actions: MenuActions, dev: boolean): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Choose Model Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.chooseModel() },
        { label: 'Connection…', accelerator: 'CmdOrCtrl+K', click: () => actions.showConnection() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { label: 'Checker', accelerator: 'CmdOrCtrl+1', click: () => actions.showView('checker') },
        { label: 'Dashboard', accelerator: 'CmdOrCtrl+2', click: () => actions.showView('dashboard') },
        ...(actions.alertNotifications
          ? [
              {
                label: 'Alert Notifications',
                type: 'checkbox' as const,
                checked: actions.alertNotifications.enabled(),
                click: (item: MenuItem) => actions.alertNotifications?.setEnabled(item.checked),
              },
            ]
          : []),
        { type: 'separator' },
        { role: 'reload' },
        ...(dev ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      label: 'Help',
      submenu: [
        {
          label: 'Open /metrics in Browser',
          click: () => {
            const url = actions.metricsUrl();
            if (url) void shell.openExternal(url);
          },
        },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
