/**
 * The Electron main process: thin glue. The tray's icon, tooltip, menu and
 * notifications come from the pure tray model (model.ts, tested without
 * Electron); the window shows the status page served by the same loopback UI
 * server as `cachepoint ui`. Start: see apps/tray/README.md.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { connectToDaemon, type StatusInfo } from '@cachecloud/control'
import { createUiServer } from '@cachecloud/ui'
import { loadElectron, type BrowserWindowLike } from './electron-api.js'
import { followDaemon } from './follow.js'
import { iconPng } from './icons.js'
import { trayNotifications, trayView, type MenuAction } from './model.js'

const dataDir = resolve(process.env.CACHEPOINT_HOME ?? join(homedir(), '.cachepoint'))
const stopping = new AbortController()
const { app, BrowserWindow, Menu, nativeImage, Notification, Tray } = await loadElectron()
let window: BrowserWindowLike | undefined
let last: StatusInfo | undefined

await app.whenReady()
const ui = createUiServer({ dataDir })
const { openUrl } = await ui.start()
const tray = new Tray(nativeImage.createEmpty())

function openWindow (): void {
  if (window !== undefined) { window.show(); window.focus(); return }
  window = new BrowserWindow({ width: 960, height: 720, title: 'CachePoint', webPreferences: { sandbox: true, contextIsolation: true } })
  window.on('closed', () => { window = undefined })
  void window.loadURL(openUrl)
}

async function run (action: MenuAction): Promise<void> {
  if (action === 'open') { openWindow(); return }
  if (action === 'quit') { stopping.abort(); await ui.stop(); app.quit(); return }
  const client = await connectToDaemon(dataDir)
  await client[action]()
}

function show (status: StatusInfo | undefined): void {
  const view = trayView(status)
  const icon = nativeImage.createFromBuffer(iconPng(view.icon, 16))
  icon.addRepresentation({ scaleFactor: 2, buffer: iconPng(view.icon, 32) })
  tray.setImage(icon)
  tray.setToolTip(view.tooltip)
  tray.setContextMenu(Menu.buildFromTemplate(view.menu.flatMap(item => [
    ...(item.action === 'quit' ? [{ type: 'separator' as const }] : []),
    { label: item.label, enabled: item.enabled, click: () => { run(item.action).catch((err: Error) => { new Notification({ title: `${item.label} failed`, body: err.message }).show() }) } }
  ])))
  for (const notice of trayNotifications(last, status)) new Notification({ title: notice.title, body: notice.body }).show()
  last = status
}

app.on('window-all-closed', () => { /* stay in the tray */ })
tray.on('click', openWindow)
show(undefined)
void followDaemon(dataDir, show, stopping.signal)
