// The audit signing key the package's tests share (one per test process).
import { generateAuditKey } from '../src/index.js'

export const TEST_AUDIT_KEY = generateAuditKey()
