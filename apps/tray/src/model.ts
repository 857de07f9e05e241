import type { StatusInfo } from '@cachecloud/control'
import { noticesBetween, summarize, type Notice, type NodeState } from '@cachecloud/ui'

/** One icon per state (icons.ts draws them): the state reads at a glance. */
export type IconName = NodeState

export type MenuAction = 'open' | 'pause' | 'resume' | 'sync' | 'quit'

export interface MenuItem {
  action: MenuAction
  label: string
  enabled: boolean
}

/** Everything the tray shows for one daemon state; Electron only draws it (main.ts). */
export interface TrayView {
  icon: IconName
  tooltip: string
  /** The menu, top to bottom; a separator goes before `quit`. */
  menu: MenuItem[]
}

/** The tray for a status snapshot; `undefined` means the daemon does not answer. */
export function trayView (status: StatusInfo | undefined): TrayView {
  const summary = summarize(status)
  const up = status !== undefined
  const paused = status?.paused === true
  return {
    icon: summary.state,
    tooltip: `CachePoint: ${summary.text}`,
    menu: [
      { action: 'open', label: 'Open CachePoint', enabled: true },
      { action: 'pause', label: 'Pause transfers', enabled: up && !paused },
      { action: 'resume', label: 'Resume transfers', enabled: up && paused },
      { action: 'sync', label: 'Sync now', enabled: up && !paused },
      { action: 'quit', label: 'Quit', enabled: true }
    ]
  }
}

/** Desktop notifications to raise when the state goes from `before` to `after`: a version became ready, a pull failed. */
export function trayNotifications (before: StatusInfo | undefined, after: StatusInfo | undefined): Notice[] {
  return noticesBetween(before, after)
}
