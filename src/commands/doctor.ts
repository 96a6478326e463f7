/** `database doctor [--fix]`: what would stop the tool, and what crashes left. */
import type { Config } from '../base/config.js';
import { examineEnvironment, type DoctorOptions, type DoctorReport } from '../doctor/doctor.js';

export function doctorCommand(config: Config, options: DoctorOptions = {}): Promise<DoctorReport> {
  return examineEnvironment(config, options);
}
