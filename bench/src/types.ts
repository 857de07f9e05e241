/** One line of the benchmark table: a measured figure beside the baseline it is compared with. */
export interface BenchResult {
  /** What was measured, e.g. 'import throughput'. */
  name: string
  value: number
  unit: string
  /** The baseline measured in the same run, e.g. 'node:crypto SHA-256'. */
  baselineName?: string
  baseline?: number
  /** value / baseline (or baseline / value where lower is better), as the goal states it. */
  ratio?: number
  /** The goal, e.g. '>= 0.70'. */
  goal?: string
  met?: boolean
  note?: string
}

/** A benchmark module: `export async function run (): Promise<BenchResult[]>`. */
export type BenchModule = { run: () => Promise<BenchResult[]> }
