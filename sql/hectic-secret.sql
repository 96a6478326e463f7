-- hectic bundle: encrypted secret storage.
--
-- Creates
--   hectic.secret(id, key UNIQUE, value bytea)   values encrypted with pgcrypto
--   hectic.load_secrets_from_env(text) -> int   replace all secrets from dotenv text
--   hectic.get_secret(text) -> text             decrypted value, or NULL
--   hectic._secret_key(), hectic._pgcrypto_schema(), hectic._secret_key_setup_hint()
--                                               internal helpers
--
-- Threat model: no table content, pg_dump output or data backup may contain a plaintext
-- secret or the key. So the key is never stored in a table (nor in pg_db_role_setting,
-- which pg_dump --create / pg_dumpall copy): it is read from the custom setting
-- hectic.secret_key, which db-tool's postgres-init writes into a config file inside the
-- cluster's data directory. Elsewhere, set it once with
--   SET hectic.secret_key = '';   -- PostgreSQL < 17: ALTER SYSTEM only accepts a known name
--   ALTER SYSTEM SET hectic.secret_key = '<long random string>';
--   RESET hectic.secret_key; SELECT pg_reload_conf();
--
-- Upgrade from 0.1.0 (plaintext text column): existing values are encrypted in place.
-- Without a key that upgrade fails instead of dropping or keeping plaintext data.
--
-- Idempotent, no BEGIN/COMMIT (the caller wraps the bundle in one transaction).

CREATE SCHEMA IF NOT EXISTS hectic;

-- pgcrypto may already live in any schema the user chose; IF NOT EXISTS leaves it
-- there, and the functions below look its schema up at run time instead of relying on
-- search_path.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- Schema of the pgcrypto extension, wherever it was installed.
CREATE OR REPLACE FUNCTION hectic._pgcrypto_schema()
RETURNS name
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    schema_name name;
BEGIN
    SELECT n.nspname INTO schema_name
      FROM pg_extension AS e
      JOIN pg_namespace AS n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgcrypto';
    IF schema_name IS NULL THEN
        RAISE EXCEPTION 'hectic: the pgcrypto extension is not installed'
            USING HINT = 'Re-apply the hectic bundle or run: CREATE EXTENSION pgcrypto;';
    END IF;
    RETURN schema_name;
END
$$;

COMMENT ON FUNCTION hectic._pgcrypto_schema() IS 'internal: schema holding the pgcrypto extension';

-- How to set the key by hand, for error hints. ALTER SYSTEM rejects unknown setting
-- names before PostgreSQL 17, and a SET makes the name known to the session.
CREATE OR REPLACE FUNCTION hectic._secret_key_setup_hint()
RETURNS text
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT 'SET hectic.secret_key = ''''; ALTER SYSTEM SET hectic.secret_key = ''<long random string>''; '
        || 'RESET hectic.secret_key; SELECT pg_reload_conf(); (the first SET is only needed before PostgreSQL 17)';
$$;

COMMENT ON FUNCTION hectic._secret_key_setup_hint() IS 'internal: how to configure hectic.secret_key, for error hints';

-- The encryption key, from the custom setting hectic.secret_key. Fails loudly when it is
-- missing, or when it was set with ALTER DATABASE/ROLE ... SET: those settings live in
-- the pg_db_role_setting catalog, which pg_dump --create and pg_dumpall print, so the
-- key would leak into dumps.
CREATE OR REPLACE FUNCTION hectic._secret_key()
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    secret_key text := current_setting('hectic.secret_key', true);
BEGIN
    IF EXISTS (
        SELECT 1
          FROM pg_db_role_setting AS s, unnest(s.setconfig) AS c(setting)
         WHERE s.setdatabase IN (0, (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()))
           AND c.setting ILIKE 'hectic.secret\_key=%'
    ) THEN
        RAISE EXCEPTION 'hectic.secret_key is set with ALTER DATABASE/ROLE ... SET, which copies the key into pg_dump output'
            USING HINT = 'Remove it (ALTER DATABASE ... RESET hectic.secret_key; ALTER ROLE ... RESET hectic.secret_key) '
                      || 'and set it server-wide instead: ' || hectic._secret_key_setup_hint();
    END IF;
    IF secret_key IS NULL OR btrim(secret_key) = '' THEN
        RAISE EXCEPTION 'hectic.secret_key is not set: secrets cannot be encrypted or decrypted'
            USING HINT = 'Clusters made by postgres-init have it. Elsewhere run: '
                      || hectic._secret_key_setup_hint();
    END IF;
    RETURN secret_key;
END
$$;

COMMENT ON FUNCTION hectic._secret_key() IS 'internal: the secret encryption key from the hectic.secret_key setting';

CREATE TABLE IF NOT EXISTS hectic.secret (
    id    serial PRIMARY KEY,
    key   text   UNIQUE NOT NULL,
    value bytea  NOT NULL
);

COMMENT ON COLUMN hectic.secret.value IS 'pgp_sym_encrypt(plaintext, hectic.secret_key); read it with hectic.get_secret(key)';

-- Upgrade from 0.1.0, whose value column held plaintext: encrypt every row in place.
DO $$
DECLARE
    value_type  regtype;
    row_count   bigint;
    crypto      name;
BEGIN
    SELECT a.atttypid::regtype INTO value_type
      FROM pg_attribute AS a
     WHERE a.attrelid = 'hectic.secret'::regclass AND a.attname = 'value' AND NOT a.attisdropped;

    IF value_type = 'bytea'::regtype THEN
        RETURN;  -- already encrypted storage
    END IF;

    SELECT count(*) INTO row_count FROM hectic.secret;
    IF row_count > 0 THEN
        IF coalesce(btrim(current_setting('hectic.secret_key', true)), '') = '' THEN
            RAISE EXCEPTION 'hectic: cannot upgrade hectic.secret: % plaintext secret(s) must be encrypted but hectic.secret_key is not set', row_count
                USING HINT = 'Set the key, then apply the bundle again: '
                          || hectic._secret_key_setup_hint();
        END IF;
        PERFORM hectic._secret_key();  -- the same checks as at run time (e.g. key not in ALTER DATABASE SET)
    END IF;

    crypto := hectic._pgcrypto_schema();
    -- The key is read by the USING expression itself, never spliced into the statement
    -- text, so it cannot show up in an error context or a server log.
    EXECUTE format(
        'ALTER TABLE hectic.secret ALTER COLUMN value TYPE bytea '
        'USING %I.pgp_sym_encrypt(value::text, hectic._secret_key(), %L)',
        crypto, 'cipher-algo=aes256');
    IF row_count > 0 THEN
        RAISE NOTICE 'hectic: encrypted % existing secret(s) in hectic.secret', row_count;
    END IF;
END
$$;

-- A 0.1.0 function of the same signature may return another type; CREATE OR REPLACE
-- cannot change a return type, so drop such a leftover first.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_proc
                WHERE oid = to_regprocedure('hectic.load_secrets_from_env(text)')
                  AND prorettype <> 'integer'::regtype) THEN
        DROP FUNCTION hectic.load_secrets_from_env(text);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_proc
                WHERE oid = to_regprocedure('hectic.get_secret(text)')
                  AND prorettype <> 'text'::regtype) THEN
        DROP FUNCTION hectic.get_secret(text);
    END IF;
END
$$;

-- Replaces ALL secrets with the KEY=VALUE pairs of a dotenv text and returns how many
-- were stored. Rules:
--   * blank lines and lines starting with # are skipped;
--   * an optional leading "export " is ignored;
--   * the line is split at the first "="; key and value are trimmed;
--   * one pair of matching surrounding quotes (' or ") is stripped from the value;
--   * lines end with LF, CRLF or a lone CR; a UTF-8 byte order mark at the start is
--     ignored; a later duplicate key wins;
--   * a non-empty line without "=", or with an empty key, is an error naming the line
--     number (1-based). The line's content is never echoed: it may hold a secret.
-- Everything is parsed before anything is written, and the caller's transaction makes
-- the replacement atomic: on any error the previous secrets stay.
CREATE OR REPLACE FUNCTION hectic.load_secrets_from_env(dotenv text)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lines       text[];
    line_no     integer;
    line        text;
    eq          integer;
    entry_key   text;
    entry_value text;
    entries     jsonb := '{}'::jsonb;
    secret_key  text;
    crypto      name;
    stored      integer;
BEGIN
    IF dotenv IS NULL THEN
        RAISE EXCEPTION 'hectic.load_secrets_from_env: dotenv text is NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;

    -- An editor's byte order mark is not part of the first key.
    lines := regexp_split_to_array(regexp_replace(dotenv, E'^\uFEFF', ''), E'\r\n|\r|\n');
    FOR line_no IN 1 .. coalesce(array_length(lines, 1), 0) LOOP
        line := btrim(lines[line_no], E' \t');
        CONTINUE WHEN line = '' OR left(line, 1) = '#';

        line := regexp_replace(line, E'^export[ \t]+', '');
        eq := strpos(line, '=');
        IF eq = 0 THEN
            RAISE EXCEPTION 'hectic.load_secrets_from_env: line %: expected KEY=VALUE', line_no
                USING ERRCODE = 'invalid_parameter_value';
        END IF;

        entry_key := btrim(left(line, eq - 1), E' \t');
        IF entry_key = '' THEN
            RAISE EXCEPTION 'hectic.load_secrets_from_env: line %: empty key before "="', line_no
                USING ERRCODE = 'invalid_parameter_value';
        END IF;

        entry_value := btrim(substr(line, eq + 1), E' \t');
        IF length(entry_value) >= 2
           AND left(entry_value, 1) IN ('"', '''')
           AND right(entry_value, 1) = left(entry_value, 1) THEN
            entry_value := substr(entry_value, 2, length(entry_value) - 2);
        END IF;

        -- jsonb keys are unique: a later duplicate simply overwrites the earlier one.
        entries := entries || jsonb_build_object(entry_key, entry_value);
    END LOOP;

    -- Resolve the key and pgcrypto before deleting anything.
    secret_key := hectic._secret_key();
    crypto := hectic._pgcrypto_schema();

    DELETE FROM hectic.secret;
    EXECUTE format(
        'INSERT INTO hectic.secret (key, value) '
        'SELECT e.key, %I.pgp_sym_encrypt(e.value, $1, %L) FROM jsonb_each_text($2) AS e ORDER BY e.key',
        crypto, 'cipher-algo=aes256')
        USING secret_key, entries;
    GET DIAGNOSTICS stored = ROW_COUNT;
    RETURN stored;
END
$$;

COMMENT ON FUNCTION hectic.load_secrets_from_env(text) IS
    'Replaces all secrets in hectic.secret with the KEY=VALUE pairs of a dotenv text (encrypted); returns the count';

-- Decrypted value of one secret, or NULL when there is no such key.
CREATE OR REPLACE FUNCTION hectic.get_secret(secret_name text)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    secret_key text := hectic._secret_key();  -- fail early even for unknown names
    crypto     name := hectic._pgcrypto_schema();
    ciphertext bytea;
    plaintext  text;
BEGIN
    SELECT s.value INTO ciphertext FROM hectic.secret AS s WHERE s.key = secret_name;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE format('SELECT %I.pgp_sym_decrypt($1, $2)', crypto) INTO plaintext USING ciphertext, secret_key;
    EXCEPTION WHEN external_routine_invocation_exception OR data_exception THEN
        RAISE EXCEPTION 'hectic.get_secret: cannot decrypt secret "%": %', secret_name, SQLERRM
            USING HINT = 'hectic.secret_key differs from the key the secrets were stored with; load them again with hectic.load_secrets_from_env().';
    END;
    RETURN plaintext;
END
$$;

COMMENT ON FUNCTION hectic.get_secret(text) IS 'Decrypted value of the secret named by the argument, or NULL when absent';
