/** `database scaffold` (SPEC §5): a new project's layout under LOCAL_DIR, else the current folder (src/scaffold/). */
import { newProjectConfig, type Config } from '../base/config.js';
import { scaffoldProject, type ScaffoldResult } from '../scaffold/scaffold.js';

export function scaffoldCommand(given: Config, now: Date = new Date()): ScaffoldResult {
  return scaffoldProject(newProjectConfig(given), now);
}
