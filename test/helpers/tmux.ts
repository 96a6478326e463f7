/**
 * A real terminal for tests: a tmux server of our own (its own socket, no config) with
 * one pane running sh, driven with send-keys and read with capture-pane. tmux is a test
 * dependency (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { baseEnv } from './env.js';
import { waitFor } from './project.js';

let panes = 0;

export interface TmuxPane {
  /** Types a command line and Enter. */
  run(line: string): void;
  /** Sends keys as tmux names them (`q`, `Enter`, `C-c`). */
  keys(...keys: string[]): void;
  /** The pane's text (wrapped lines joined, trailing blank lines dropped), scrollback included. */
  capture(): string;
  /** Waits until the pane's text matches `pattern`; returns the text. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(): void;
}

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Starts a pane running sh, and waits for its first prompt (keys typed earlier would echo before it). */
export async function startPane(env: Record<string, string | undefined>, size: { columns: number; rows: number }): Promise<TmuxPane> {
  panes += 1;
  const socket = `db-tool-test-${process.pid}-${panes}`;
  const paneEnv = baseEnv({ TMUX: undefined, ...env });
  const tmux = (...args: string[]): string => {
    const result = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env: paneEnv, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr || result.error?.message}`);
    return result.stdout;
  };
  // A plain prompt and no history file: the pane shows only what the commands print.
  tmux('new-session', '-d', '-s', 'main', '-x', String(size.columns), '-y', String(size.rows), 'env PS1="$ " sh');
  tmux('set-option', '-t', 'main', 'history-limit', '5000');
  const pane: TmuxPane = {
    run: (line) => {
      tmux('send-keys', '-t', 'main', '-l', line);
      tmux('send-keys', '-t', 'main', 'Enter');
    },
    keys: (...keys) => {
      tmux('send-keys', '-t', 'main', ...keys);
    },
    capture: () => tmux('capture-pane', '-p', '-J', '-S', '-5000', '-t', 'main').replace(/\n+$/, ''),
    waitFor: async (pattern, timeoutMs = 60_000) => {
      let text = '';
      try {
        await waitFor(() => pattern.test((text = pane.capture())), timeoutMs, `${pattern} in the tmux pane`);
      } catch (error) {
        throw new Error(`${(error as Error).message}; it shows:\n${text}`);
      }
      return text;
    },
    kill: () => {
      spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore', env: paneEnv });
    },
  };
  try {
    await pane.waitFor(/^\$ ?$/, 30_000);
  } catch (error) {
    pane.kill();
    throw error;
  }
  return pane;
}
