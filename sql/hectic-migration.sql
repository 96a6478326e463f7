-- hectic bundle: migration bookkeeping used by `migrator`.
--
-- Creates
--   domain hectic.migration_name   text matching ^[0-9]{14}-.*  (YYYYMMDDHHMMSS-name)
--   domain hectic.sha256           64 hex digits
--   hectic.migration(id, name UNIQUE, hash, applied_at, baseline)
--   hectic.lowercase_migration_hash() + trigger lowercase_hash on hectic.migration
--
-- Why the sha256 domain accepts upper-case hex: PostgreSQL checks a domain when a value
-- is coerced to it, i.e. while the INSERT builds its row, before any BEFORE trigger
-- runs. A lower-case-only domain would reject 'ABC…' before the lower-casing trigger
-- could fix it. So the domain checks "64 hex digits", the trigger lower-cases, and the
-- table constraint migration_hash_lowercase (checked after triggers) guarantees every
-- stored hash is lower-case.
--
-- Two migrations with identical content (same hash) are allowed: hash is not unique.
--
-- baseline (0.3.0) marks rows recorded when the database was built from the sources
-- (hydrate, deploy): the sources stand for every migration on disk, which did not run.
--
-- Upgrade from 0.1.0 (text columns, UNIQUE hash): drops the unique constraint on hash,
-- converts the columns to the domains (lower-casing stored hashes), keeps every row.
-- A stored row that does not fit a domain makes the upgrade fail rather than lose it.
-- Upgrade from 0.1.0 and 0.2.0: adds baseline (false for the rows there: they ran).
-- Added last in both paths, so an upgraded table has a fresh install's column order.
--
-- Idempotent, no BEGIN/COMMIT (the caller wraps the bundle in one transaction).

CREATE SCHEMA IF NOT EXISTS hectic;

-- Domains have no CREATE ... IF NOT EXISTS.
DO $$
BEGIN
    IF to_regtype('hectic.migration_name') IS NULL THEN
        CREATE DOMAIN hectic.migration_name AS text
            CONSTRAINT migration_name_format CHECK (VALUE ~ '^[0-9]{14}-.*');
    END IF;
    IF to_regtype('hectic.sha256') IS NULL THEN
        CREATE DOMAIN hectic.sha256 AS text
            CONSTRAINT sha256_hex CHECK (VALUE ~ '^[0-9a-fA-F]{64}$');
    END IF;
END
$$;

COMMENT ON DOMAIN hectic.migration_name IS 'migration folder name: YYYYMMDDHHMMSS-name';
COMMENT ON DOMAIN hectic.sha256 IS 'sha256 digest as 64 hex digits (stored lower-case in hectic.migration)';

CREATE TABLE IF NOT EXISTS hectic.migration (
    id         serial                PRIMARY KEY,
    name       hectic.migration_name UNIQUE NOT NULL,
    hash       hectic.sha256         NOT NULL,
    applied_at timestamptz           NOT NULL DEFAULT now(),
    baseline   boolean               NOT NULL DEFAULT false,
    CONSTRAINT migration_hash_lowercase CHECK (hash::text = lower(hash::text))
);

-- Upgrade a 0.1.0 table in place. Every step checks the catalog first, so on a current
-- table this block changes nothing.
DO $$
DECLARE
    table_oid constant regclass := 'hectic.migration'::regclass;
    hash_attnum  smallint;
    obsolete     record;
BEGIN
    SELECT a.attnum INTO hash_attnum
      FROM pg_attribute AS a
     WHERE a.attrelid = table_oid AND a.attname = 'hash' AND NOT a.attisdropped;

    -- 0.1.0 made hash UNIQUE; identical migrations must now be allowed.
    FOR obsolete IN
        SELECT c.conname
          FROM pg_constraint AS c
         WHERE c.conrelid = table_oid AND c.contype = 'u' AND c.conkey = ARRAY[hash_attnum]
    LOOP
        EXECUTE format('ALTER TABLE hectic.migration DROP CONSTRAINT %I', obsolete.conname);
        RAISE NOTICE 'hectic: dropped unique constraint % on hectic.migration(hash)', obsolete.conname;
    END LOOP;
    -- …and a bare unique index, should someone have made one instead of a constraint.
    FOR obsolete IN
        SELECT i.indexrelid::regclass AS index_name
          FROM pg_index AS i
         WHERE i.indrelid = table_oid AND i.indisunique AND NOT i.indisprimary
           AND i.indkey::smallint[] = ARRAY[hash_attnum]
           AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
    LOOP
        EXECUTE format('DROP INDEX %s', obsolete.index_name);
        RAISE NOTICE 'hectic: dropped unique index % on hectic.migration(hash)', obsolete.index_name;
    END LOOP;

    IF (SELECT a.atttypid FROM pg_attribute AS a WHERE a.attrelid = table_oid AND a.attname = 'name')
       <> 'hectic.migration_name'::regtype THEN
        ALTER TABLE hectic.migration ALTER COLUMN name TYPE hectic.migration_name USING name::text;
    END IF;
    IF (SELECT a.atttypid FROM pg_attribute AS a WHERE a.attrelid = table_oid AND a.attname = 'hash')
       <> 'hectic.sha256'::regtype THEN
        ALTER TABLE hectic.migration ALTER COLUMN hash TYPE hectic.sha256 USING lower(hash::text);
    END IF;

    -- 0.1.0 left applied_at nullable; a NULL there can only mean "unknown", and the
    -- upgrade time is the best available answer.
    IF EXISTS (SELECT 1 FROM pg_attribute AS a
                WHERE a.attrelid = table_oid AND a.attname IN ('name', 'hash', 'applied_at') AND NOT a.attnotnull)
       OR NOT EXISTS (SELECT 1 FROM pg_attrdef AS d
                        JOIN pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                       WHERE d.adrelid = table_oid AND a.attname = 'applied_at') THEN
        UPDATE hectic.migration SET applied_at = now() WHERE applied_at IS NULL;
        ALTER TABLE hectic.migration
            ALTER COLUMN name SET NOT NULL,
            ALTER COLUMN hash SET NOT NULL,
            ALTER COLUMN applied_at SET NOT NULL,
            ALTER COLUMN applied_at SET DEFAULT now();
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_constraint AS c
                    WHERE c.conrelid = table_oid AND c.conname = 'migration_hash_lowercase') THEN
        ALTER TABLE hectic.migration
            ADD CONSTRAINT migration_hash_lowercase CHECK (hash::text = lower(hash::text));
    END IF;

    -- 0.1.0 and 0.2.0 had no baseline marker: their rows are migrations that ran.
    IF NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                    WHERE a.attrelid = table_oid AND a.attname = 'baseline' AND NOT a.attisdropped) THEN
        ALTER TABLE hectic.migration ADD COLUMN baseline boolean NOT NULL DEFAULT false;
    END IF;
END
$$;

COMMENT ON COLUMN hectic.migration.baseline IS
    'true: recorded when the database was built from the sources (hydrate), which stand for this migration; it did not run';

CREATE OR REPLACE FUNCTION hectic.lowercase_migration_hash()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.hash := lower(NEW.hash);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION hectic.lowercase_migration_hash() IS 'trigger: stores hectic.migration.hash lower-case';

-- CREATE OR REPLACE TRIGGER needs PostgreSQL 14; a catalog check works everywhere.
-- The WHEN clause (0.3.0) keeps the function call off the migrator's hot path: it
-- writes lower-case hashes, and a condition costs far less than a PL/pgSQL call.
-- Before 0.3.0 the trigger had no condition; it is replaced.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger AS t
                    WHERE t.tgrelid = 'hectic.migration'::regclass AND t.tgname = 'lowercase_hash'
                      AND t.tgqual IS NOT NULL) THEN
        DROP TRIGGER IF EXISTS lowercase_hash ON hectic.migration;
        CREATE TRIGGER lowercase_hash
            BEFORE INSERT OR UPDATE ON hectic.migration
            FOR EACH ROW
            WHEN (NEW.hash::text IS DISTINCT FROM lower(NEW.hash::text))
            EXECUTE FUNCTION hectic.lowercase_migration_hash();
    END IF;
END
$$;
