-- hectic bundle: version bookkeeping.
--
-- Creates hectic.version and records the bundle version in the row ('hectic', X).
-- fingerprint (0.3.0) is the sha256 of the bundle's SQL, written by db-tool after a
-- full apply; with the same version and fingerprint, `migrate` skips re-applying the
-- files (by hand it stays NULL, and the next db-tool apply fills it in).
-- X is the placeholder @HECTIC_VERSION@, substituted by db-tool (or by hand with
-- sed) from sql/HECTIC_VERSION before this file runs.
--
-- Outcomes:
--   * no row yet                  -> the row is inserted (fresh install);
--   * same version                -> nothing changes;
--   * an older x.y.z version      -> the row is updated (in-place upgrade; the other
--                                    files of the bundle converge the objects);
--   * a newer or unparsable value -> error, so an old tool never "downgrades" or
--                                    mangles a schema it does not know.
--
-- Idempotent, no BEGIN/COMMIT: the caller wraps the bundle in one transaction
-- (db-tool does; by hand use `psql -1 -v ON_ERROR_STOP=1`).

CREATE SCHEMA IF NOT EXISTS hectic;

COMMENT ON SCHEMA hectic IS 'hectic bundle: version, secrets, migrations, inheritance parents (managed by db-tool)';

CREATE TABLE IF NOT EXISTS hectic.version (
    name         text        PRIMARY KEY,
    version      text        NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    fingerprint  text
);

-- The shell tool's 0.1.0 table may lack the NOT NULLs and the default. Checked first:
-- an unconditional ALTER TABLE would lock and invalidate the table on every apply.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = 'hectic.version'::regclass AND attname IN ('version', 'installed_at')
                  AND NOT attnotnull)
       OR NOT EXISTS (SELECT 1 FROM pg_attrdef AS d
                        JOIN pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                       WHERE d.adrelid = 'hectic.version'::regclass AND a.attname = 'installed_at') THEN
        UPDATE hectic.version SET installed_at = now() WHERE installed_at IS NULL;
        ALTER TABLE hectic.version
            ALTER COLUMN version SET NOT NULL,
            ALTER COLUMN installed_at SET DEFAULT now(),
            ALTER COLUMN installed_at SET NOT NULL;
    END IF;
    -- 0.1.0 and 0.2.0 had no fingerprint.
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                    WHERE attrelid = 'hectic.version'::regclass AND attname = 'fingerprint' AND NOT attisdropped) THEN
        ALTER TABLE hectic.version ADD COLUMN fingerprint text;
    END IF;
END
$$;

COMMENT ON COLUMN hectic.version.fingerprint IS 'sha256 of the bundle SQL last applied by db-tool (NULL when applied by hand)';

DO $$
DECLARE
    bundle_version    constant text := '@HECTIC_VERSION@';
    installed_version text;
    bundle_parts      int[];
    installed_parts   int[];
BEGIN
    -- Guard against running the raw, unsubstituted file.
    IF bundle_version !~ '^[0-9]+\.[0-9]+\.[0-9]+$' THEN
        RAISE EXCEPTION 'hectic-version.sql: bundle version placeholder was not substituted (got "%")', bundle_version
            USING HINT = 'Replace @HECTIC_VERSION@ with the content of sql/HECTIC_VERSION, e.g. sed "s/@HECTIC_VERSION@/$(cat sql/HECTIC_VERSION)/".';
    END IF;

    SELECT v.version INTO installed_version FROM hectic.version AS v WHERE v.name = 'hectic';

    IF installed_version IS NULL THEN
        INSERT INTO hectic.version (name, version) VALUES ('hectic', bundle_version);
        RETURN;
    END IF;

    IF installed_version = bundle_version THEN
        RETURN;  -- same version: leave the row (and installed_at) alone
    END IF;

    IF installed_version !~ '^[0-9]+\.[0-9]+\.[0-9]+$' THEN
        RAISE EXCEPTION 'hectic bundle version conflict: database has unknown version "%", this bundle is %',
            installed_version, bundle_version
            USING HINT = 'The database was set up by another tool or a newer db-tool; refusing to touch it.';
    END IF;

    -- Numeric comparison: '0.10.0' is newer than '0.9.0' (text comparison would say otherwise).
    bundle_parts    := string_to_array(bundle_version, '.')::int[];
    installed_parts := string_to_array(installed_version, '.')::int[];

    IF installed_parts > bundle_parts THEN
        RAISE EXCEPTION 'hectic bundle version conflict: database has newer version %, this bundle is %',
            installed_version, bundle_version
            USING HINT = 'Use a db-tool release that ships hectic ' || installed_version || ' or newer.';
    END IF;

    UPDATE hectic.version
       SET version = bundle_version, installed_at = now(), fingerprint = NULL
     WHERE name = 'hectic';
    RAISE NOTICE 'hectic: upgrading bundle from % to %', installed_version, bundle_version;
END
$$;
