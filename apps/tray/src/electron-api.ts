/**
 * The part of Electron's main-process API the tray uses, typed here so that
 * the tray builds without the `electron` package: electron is an optional
 * dependency (its install step downloads a binary from outside the npm
 * registry, which fails on machines that reach only the registry, and an
 * optional dependency that fails to install does not fail `npm ci`).
 */
export interface NativeImage {
  addRepresentation: (options: { scaleFactor: number, buffer: Buffer }) => void
}

export interface MenuItemOptions {
  type?: 'separator'
  label?: string
  enabled?: boolean
  click?: () => void
}

export interface ElectronApi {
  app: {
    whenReady: () => Promise<void>
    quit: () => void
    on: (event: 'window-all-closed', listener: () => void) => void
  }
  BrowserWindow: new (options: {
    width: number,
    height: number,
    title: string,
    webPreferences: { sandbox: boolean, contextIsolation: boolean }
  }) => BrowserWindowLike
  Menu: { buildFromTemplate: (template: MenuItemOptions[]) => unknown }
  nativeImage: { createEmpty: () => NativeImage, createFromBuffer: (buffer: Buffer) => NativeImage }
  Notification: new (options: { title: string, body: string }) => { show: () => void }
  Tray: new (image: NativeImage) => TrayLike
}

export interface BrowserWindowLike {
  show: () => void
  focus: () => void
  on: (event: 'closed', listener: () => void) => void
  loadURL: (url: string) => Promise<void>
}

export interface TrayLike {
  setImage: (image: NativeImage) => void
  setToolTip: (text: string) => void
  setContextMenu: (menu: unknown) => void
  on: (event: 'click', listener: () => void) => void
}

/** Loads Electron; fails with a one-line reason where it is not installed. */
export async function loadElectron (): Promise<ElectronApi> {
  const specifier = 'electron'
  try {
    return await import(specifier) as ElectronApi
  } catch (err) {
    throw new Error(`electron is not installed (an optional dependency of apps/tray): run \`npm install -w apps/tray electron\` on a machine that can download its binary (${(err as Error).message})`)
  }
}
