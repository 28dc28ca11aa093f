// Module hooks that answer `import … from 'electron'` with test/support/electron-stand-in.ts: there
// is no Electron binary under plain Node, and main/electron/ipc-handlers.ts needs only ipcMain,
// dialog and BrowserWindow from it. Registered by a test before it imports such a module.
const standIn = new globalThis.URL('./electron-stand-in.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: standIn, shortCircuit: true };
  return next(specifier, context);
}
