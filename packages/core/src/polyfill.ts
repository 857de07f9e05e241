/**
 * libp2p 3.x calls `Promise.withResolvers`, which Node 20 lacks. Import this
 * module once, before libp2p, at every entry point (CLI, daemon, tests, bench).
 */
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const promiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = function withResolvers<T> (): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve']
    let reject!: Resolvers<T>['reject']
    const promise = new Promise<T>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
    return { promise, resolve, reject }
  }
}

export {}
