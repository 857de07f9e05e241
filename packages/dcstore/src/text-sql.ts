// The scope of a text search or its coverage as SQL conditions on `files f`, shared by both backends ('?' placeholders; pg-index numbers them).
import { globToRegex } from './pg-index.js'
import type { TextScope } from './version-index.js'

export interface ScopeSql { where: string[], args: Array<string | number> }

/** Conditions beside the snapshot list (which each backend passes its own way). */
export function scopeConditions (scope: TextScope, dialect: 'sqlite' | 'pg'): ScopeSql {
  const where: string[] = ["f.kind = 'file'"]
  const args: Array<string | number> = []
  if (scope.glob !== undefined) {
    where.push(dialect === 'sqlite' ? 'f.path GLOB ?' : 'f.path ~ ?')
    args.push(dialect === 'sqlite' ? scope.glob : globToRegex(scope.glob))
  }
  if (scope.types !== undefined && scope.types.length > 0) {
    where.push('(' + scope.types.map(() => 'lower(f.path) LIKE ?').join(' OR ') + ')')
    // LIKE's wildcards cannot occur in a type (validated as [a-z0-9]+)
    args.push(...scope.types.map(t => `%.${t}`))
  }
  if (scope.minSize !== undefined) { where.push('f.size >= ?'); args.push(scope.minSize) }
  if (scope.maxSize !== undefined) { where.push('f.size <= ?'); args.push(scope.maxSize) }
  if (scope.mtimeFromMs !== undefined) { where.push('f.mtime_ms >= ?'); args.push(scope.mtimeFromMs) }
  if (scope.mtimeToMs !== undefined) { where.push('f.mtime_ms <= ?'); args.push(scope.mtimeToMs) }
  return { where, args }
}
