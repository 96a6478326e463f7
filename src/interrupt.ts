/**
 * Cleanups that must run even when the user presses Ctrl-C or CI sends SIGTERM:
 * private clusters are stopped and removed before we exit 130/143. The core registers
 * them; the CLI turns signals into `runInterruptCleanups`.
 */
type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();

/** Registers a cleanup; returns a function that unregisters it. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Runs `work` with `cleanup` registered for signals, and always runs it afterwards. */
export async function withCleanup<T>(cleanup: Cleanup, work: () => Promise<T>): Promise<T> {
  const unregister = onInterrupt(cleanup);
  try {
    return await work();
  } finally {
    unregister();
    await cleanup();
  }
}

export async function runInterruptCleanups(): Promise<void> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(pending.map((cleanup) => cleanup()));
}
