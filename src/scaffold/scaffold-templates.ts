/**
 * The files `database scaffold` writes (kept in code so they ship inside dist/ with
 * every way of installing). The example table is the same in the sources, the first
 * migration, the tests and the test data, so check, deploy, test, migrate status and
 * diff all pass on a new project as it is.
 */

export const ENTRYPOINT_SQL = `-- The database as it should be. \`database hydrate\` (and deploy, check, diff) runs
-- this file with psql, after installing the hectic bundle (the hectic schema). Split it
-- with \\ir as it grows (\\ir tables/todo.sql); keep it re-runnable (IF NOT EXISTS,
-- CREATE OR REPLACE) so that \`database hydrate\` also works on a built database.
--
-- THE INHERITANCE RULE. Every new table must inherit hectic.created_at: an event
-- trigger of the hectic bundle rejects any other CREATE TABLE, in these sources and in
-- migrations alike:
--
--   ERROR:  table app.todo must inherit hectic.created_at
--   HINT:   CREATE TABLE app.todo (…) INHERITS (hectic.created_at); …
--
-- So write INHERITS (hectic.created_at) on every table: it gets a created_at column
-- (timestamptz, NOT NULL, DEFAULT now()). Two more parents are there if you want them:
--   INHERITS (hectic.created_at, hectic.updated_at)   updated_at kept current on UPDATE
--   INHERITS (hectic.created_at, hectic.immutable)    read-only outside migrations
-- Schemas that must not follow the rule (a third-party one) can be exempted with the
-- setting hectic.inheritance_extra_excluded_schemas; see the README, "The hectic SQL bundle".

CREATE SCHEMA IF NOT EXISTS app;

-- An example table: replace it with your own (and the first migration, the tests and
-- test-data.sql with it).
CREATE TABLE IF NOT EXISTS app.todo (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    done  boolean NOT NULL DEFAULT false
) INHERITS (hectic.created_at);
`;

export const MIGRATION_NAME = 'create-todo';

export const MIGRATION_UP_SQL = `-- The first migration: what db/src/entrypoint.sql declares, as a change to apply to
-- databases that already exist (production). Every later change of the sources gets
-- its own migration (\`database migrator create --name add-something\`), and
-- \`database diff\` (after \`database backup\`) shows whether migrations and sources
-- still describe the same database. New tables inherit hectic.created_at here too.
-- The migrator runs each migration in a transaction: no BEGIN/COMMIT here.

CREATE SCHEMA app;

CREATE TABLE app.todo (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL,
    done  boolean NOT NULL DEFAULT false
) INHERITS (hectic.created_at);
`;

export const MIGRATION_DOWN_SQL = `-- Undoes up.sql (\`database migrator migrate down\`).

DROP TABLE app.todo;
DROP SCHEMA app;
`;

export const TEST_SQL = `-- Tests, printed as TAP (https://testanything.org). \`database test\` runs the .sql
-- files under db/test/ the way pg_prove does (psql unaligned, tuples only, quiet), so
-- each SELECT below prints one bare \`ok N - …\` or \`not ok N - …\` line. pgTAP works
-- too, if you install it. Everything runs in a transaction that is rolled back.

BEGIN;

-- ok(n, pass, description): one TAP line; a NULL result counts as a failure.
CREATE FUNCTION pg_temp.ok(n integer, pass boolean, description text)
RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN coalesce(pass, false) THEN '' ELSE 'not ' END || 'ok ' || n || ' - ' || description
$$;

\\echo 1..3

SELECT pg_temp.ok(1, to_regclass('app.todo') IS NOT NULL, 'app.todo exists');

SELECT pg_temp.ok(2,
    EXISTS (SELECT 1 FROM pg_inherits
             WHERE inhrelid = to_regclass('app.todo') AND inhparent = 'hectic.created_at'::regclass),
    'app.todo inherits hectic.created_at');

INSERT INTO app.todo (title) VALUES ('written by a test');
SELECT pg_temp.ok(3,
    (SELECT created_at = now() AND NOT done FROM app.todo WHERE title = 'written by a test'),
    'a new todo gets created_at and is not done');

ROLLBACK;
`;

export const TEST_DATA_SQL = `-- Test data for your development cluster: \`database deploy\` runs it after the
-- sources (\`database patch\` runs it on its own; \`database pull_staging\` replaces it
-- with a dump of staging). It is not a migration and never reaches production.

INSERT INTO app.todo (title) VALUES
    ('read the README'),
    ('replace app.todo with the first real table');
`;

export const ENV_EXAMPLE = `# Settings for db-tool, as KEY=VALUE lines. Copy this file to .env (git ignores it),
# edit it, and pass it deliberately — nothing reads it otherwise:
#   database --env-file .env deploy
#   . postgres-init --env-file .env
# Its values count as if exported (command-line flags still win). Everything below is
# a default: a project needs no file at all.
#
# PG_PORT=5432                  names the socket file (TCP stays off)
# PG_DATABASE=testdb            the database created in the cluster
# PG_SHARED_PRELOAD_LIBRARIES=pg_cron
# HECTIC_LOG=info               trace, debug, info, notice, warn, error
#
# Secrets for hectic.secret (hectic.get_secret('NAME') in SQL) go in another dotenv
# file, .env.$ENVIRONMENT, which \`database hydrate\` loads: with ENVIRONMENT=local it
# reads .env.local. Keep those out of git too.
# ENVIRONMENT=local
`;

/**
 * Lines `database scaffold` makes sure .gitignore has, in groups written together under
 * one comment (focus/: clusters, backups, logs; .env.*: the secrets .env.example
 * describes, while .env.example itself stays shared).
 */
export const GITIGNORE_ENTRIES = [
  { lines: ['focus/'], why: '# db-tool: clusters, backups and logs of this project' },
  { lines: ['.env'], why: '# db-tool: local settings (see .env.example)' },
  { lines: ['.env.*', '!.env.example'], why: '# db-tool: secrets (.env.local, .env.$ENVIRONMENT); .env.example is shared' },
] as const;
