/**
 * Cleanups that must run even when the user presses Ctrl-C or CI sends SIGTERM:
 * private clusters are stopped and removed before we exit 130/143. The core registers
 * them; the CLI turns signals into `runInterruptCleanups`.
 */
import { InterruptedError } from './errors.js';

type Cleanup = () => Promise<void>;

/**
 * How long after SIGINT/SIGTERM a command may take to clean up before it exits anyway
 * (SPEC §12: every command answers within 5 s). What is left then — a private server
 * still stopping — is its watchdog's to finish.
 */
export const INTERRUPT_DEADLINE_MS = 4_000;

const cleanups = new Set<Cleanup>();
let interruptSignal: NodeJS.Signals | undefined;

/** Records the signal that interrupts this run (the first one wins). */
export function markInterrupted(signal: NodeJS.Signals): void {
  interruptSignal ??= signal;
}

/** The signal that interrupted this run, if any. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return interruptSignal;
}

/**
 * Throws InterruptedError once a signal arrived. Long flows call it between steps, so
 * work still in flight when the cleanups ran (a server being started…) stops there
 * instead of going on into a folder that was just removed.
 */
export function throwIfInterrupted(): void {
  if (interruptSignal) throw new InterruptedError(interruptSignal);
}

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

/** Runs (and unregisters) every registered cleanup; returns how many there were. */
export async function runInterruptCleanups(): Promise<number> {
  const pending = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(pending.map((cleanup) => cleanup()));
  return pending.length;
}
