/**
 * How output names a target (SPEC §5, turn 4), for the programs: `target: database app on
 * db.example.com:5432`, and the line said when two variables name different databases.
 */
export { conflictNote, describeTarget } from '../pg/target-name.js';
