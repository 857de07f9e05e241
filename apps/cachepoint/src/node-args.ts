/**
 * Options for node itself whenever it runs the daemon: the systemd unit, the launcher (demo, benchmarks,
 * multi-node tests) and the `cachepoint` bin's shebang carry them, and infra's systemd-units test and
 * this package's startup test check that they agree.
 *
 * `--max-semi-space-size=8` (MiB; V8's default on 64-bit is 16). An import or a recompression grows the
 * young generation to its maximum; afterwards the old generation (about 31 MB, limit 56 MB) has less room
 * left than the young generation could promote, so V8 starts incremental marking by task every 80-100 ms
 * of a pull (37 mark-compacts against 12 in a restarted daemon, the same 30 MB live heap). Measured with
 * `BENCH_RESTART_SOURCE=0 BENCH_PULL_MIB=512` in alternating runs: the serving daemon 2.62 and 2.72
 * CPU s/GiB instead of 4.98 and 3.16, the pulling one 3.88 and 3.92 instead of 4.04 and 3.98, the rate
 * 0.50 and 0.55 of the bare stream instead of 0.46 and 0.46 (bench/README.md).
 */
export const DAEMON_NODE_ARGS: readonly string[] = ['--max-semi-space-size=8']
