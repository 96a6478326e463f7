/** `database doctor`'s report: one aligned line per check, `STATUS  NAME  DETAIL`. */
import type { DoctorReport } from '../../doctor/doctor.js';

export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  return report.checks.map((check) => `${check.status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}\n`).join('');
}
