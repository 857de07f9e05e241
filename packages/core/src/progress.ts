/**
 * Typed progress events, namespaced like helia's (`import:block`, `pull:block`).
 * Libraries emit them; the CLI renders bars and the daemon forwards them.
 */
export interface ProgressEvent<T extends string = string> {
  type: T
  /** Units done so far (bytes unless `unit` says otherwise). */
  done: number
  total: number
  unit?: 'bytes' | 'blocks'
  detail?: Record<string, string | number | boolean>
}

export interface ProgressOptions<T extends string = string> {
  onProgress?: (event: ProgressEvent<T>) => void
}

export interface AbortOptions {
  signal?: AbortSignal
}
