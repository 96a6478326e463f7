/** `database log [list | INDEX | NAME]`: the project cluster's server logs (src/cluster/server-logs.ts). */
import type { Config } from '../base/config.js';
import type { LogFile } from '../base/log-files.js';
import { listServerLogs } from '../cluster/server-logs.js';

export { readLog, selectLog, type LogFile } from '../base/log-files.js';

export function listLogs(config: Config): { dir: string; files: LogFile[] } {
  return listServerLogs(config);
}
