/** Longest varint accepted (enough for 2^53). */
export const MAX_VARINT_BYTES = 8
