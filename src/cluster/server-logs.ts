/** The project cluster's server logs (`database log`): the collector's folder, plus server.log. */
import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../base/errors.js';
import type { LogFile } from '../base/log-files.js';
import { clusterLayout, type LayoutSettings } from './cluster-layout.js';
import { serverPath } from './server-files.js';

/** Server log files: the collector's folder, plus server.log (the server's own output). */
export function listServerLogs(config: LayoutSettings): { dir: string; files: LogFile[] } {
  const layout = clusterLayout(config);
  const paths: string[] = [];
  let dirExists = true;
  try {
    for (const name of fs.readdirSync(layout.logDir).sort()) {
      const file = path.join(layout.logDir, name);
      if (fs.lstatSync(file).isFile()) paths.push(file);
    }
  } catch {
    dirExists = false;
  }
  if (fs.lstatSync(layout.serverLog, { throwIfNoEntry: false })?.isFile() && !paths.includes(layout.serverLog)) paths.unshift(layout.serverLog);
  if (!dirExists && paths.length === 0) {
    throw new BadInputError(`no log folder: ${layout.logDir} does not exist (start the cluster with \`database init --reuse\`, which keeps its data)`);
  }
  const owners = [fs.statSync(layout.workingDir, { throwIfNoEntry: false })?.uid ?? -1];
  const files = paths.map((file, i) => ({
    index: i + 1, name: path.basename(file), path: file, size: fs.lstatSync(file).size, anchor: serverPath(layout, file).anchor, owners,
  }));
  return { dir: layout.logDir, files };
}
