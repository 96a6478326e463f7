-- hectic bundle: inheritance parents and the event triggers that enforce them.
--
-- Creates
--   hectic.created_at(created_at)   every new table must inherit it (directly or not)
--   hectic.updated_at(updated_at)   optional; inheritors get a BEFORE UPDATE trigger
--   hectic.immutable()              marker; inheritors are read-only outside migrations
--   hectic.set_updated_at()         row trigger: updated_at := now()
--   hectic.block_immutable_dml()    row/statement trigger: raises unless
--                                   hectic.migration_mode = 'on' (SET LOCAL it)
--   event triggers on ddl_command_end:
--     hectic_enforce_created_at_inheritance  CREATE TABLE, CREATE TABLE AS, SELECT INTO,
--                                            CREATE SCHEMA (its embedded CREATE TABLEs)
--     hectic_attach_updated_at_trigger       the same + ALTER TABLE (… INHERIT …)
--     hectic_attach_immutable_triggers       the same + ALTER TABLE (… INHERIT …)
--   Event triggers filter on the top-level command's tag, so CREATE SCHEMA must be listed
--   or "CREATE SCHEMA s CREATE TABLE t (…)" would slip through.
--   internal helpers hectic._inherits_from(), hectic._inheritance_exempt_schema()
--
-- Exempt from the created_at rule (never from the attach triggers, which only act on
-- tables that chose to inherit updated_at/immutable):
--   * schemas hectic, information_schema, pg_* (pg_catalog, pg_toast, pg_temp_N, …);
--   * every schema in the comma-separated setting hectic.inheritance_extra_excluded_schemas
--     (names compared exactly after trimming spaces); '*' in it exempts every schema
--     (enforcement off: projects that do not use hectic inheritance);
--   * partitions (relispartition): PostgreSQL forbids INHERITS on them;
--   * temporary tables;
--   * tables created by an extension script (in_extension), so e.g. CREATE EXTENSION
--     pg_cron keeps working.
-- A partitioned table itself cannot use INHERITS either, but it is not exempt: it
-- must be created in an exempt schema (or with the setting above covering its schema
-- for that statement: SET LOCAL hectic.inheritance_extra_excluded_schemas = 'public').
-- Views, materialized views and foreign tables are not tables and are ignored.
--
-- Event triggers need a superuser. Idempotent, no BEGIN/COMMIT (the caller wraps the
-- bundle in one transaction).

CREATE SCHEMA IF NOT EXISTS hectic;

CREATE TABLE IF NOT EXISTS hectic.created_at (
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS hectic.updated_at (
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS hectic.immutable ();

COMMENT ON TABLE hectic.created_at IS 'parent of every table: CREATE TABLE … INHERITS (hectic.created_at)';
COMMENT ON TABLE hectic.updated_at IS 'optional parent: inheritors get a BEFORE UPDATE trigger setting updated_at';
COMMENT ON TABLE hectic.immutable IS 'marker parent: inheritors reject INSERT/UPDATE/DELETE/TRUNCATE unless hectic.migration_mode = on';

-- True when child is ancestor or inherits from it, at any depth.
CREATE OR REPLACE FUNCTION hectic._inherits_from(child regclass, ancestor regclass)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE ancestors(relid) AS (
        SELECT child::oid
        UNION
        SELECT i.inhparent FROM pg_inherits AS i JOIN ancestors AS a ON i.inhrelid = a.relid
    )
    SELECT ancestor IS NOT NULL AND EXISTS (SELECT 1 FROM ancestors WHERE relid = ancestor::oid);
$$;

COMMENT ON FUNCTION hectic._inherits_from(regclass, regclass) IS 'internal: does child inherit ancestor, at any depth';

-- True for schemas whose tables need not inherit hectic.created_at.
CREATE OR REPLACE FUNCTION hectic._inheritance_exempt_schema(schema_name name)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT schema_name IN ('hectic', 'information_schema')
        OR schema_name LIKE 'pg\_%'
        OR EXISTS (
               SELECT 1
                 FROM unnest(string_to_array(current_setting('hectic.inheritance_extra_excluded_schemas', true), ',')) AS item
                WHERE btrim(item) IN (schema_name::text, '*')
           );
$$;

COMMENT ON FUNCTION hectic._inheritance_exempt_schema(name) IS
    'internal: hectic, information_schema, pg_* and hectic.inheritance_extra_excluded_schemas (''*'': every schema) are exempt from the created_at rule';

-- BEFORE UPDATE row trigger for tables inheriting hectic.updated_at.
CREATE OR REPLACE FUNCTION hectic.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION hectic.set_updated_at() IS 'trigger: sets updated_at to now() on every UPDATE';

-- Row (INSERT/UPDATE/DELETE) and statement (TRUNCATE) trigger for tables inheriting
-- hectic.immutable. Migration mode is meant to be SET LOCAL inside a transaction so the
-- permission ends with it.
CREATE OR REPLACE FUNCTION hectic.block_immutable_dml()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF lower(coalesce(current_setting('hectic.migration_mode', true), '')) = 'on' THEN
        IF TG_LEVEL = 'STATEMENT' THEN
            RETURN NULL;  -- ignored for statement triggers
        ELSIF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on immutable table %.% is not allowed outside migration mode',
        TG_OP, quote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME)
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Change it inside a transaction: BEGIN; SET LOCAL hectic.migration_mode = ''on''; …; COMMIT;';
END
$$;

COMMENT ON FUNCTION hectic.block_immutable_dml() IS
    'trigger: rejects DML/TRUNCATE on hectic.immutable inheritors unless hectic.migration_mode = on';

-- The event triggers fire on every CREATE TABLE (and the attach triggers on every ALTER
-- TABLE), so they are written for speed: each runs one query after early exits ('*'
-- exempts everything; the attach triggers return at once while no table inherits their
-- parent). The queries are planned once per session: plpgsql caches them, and
-- force_generic_plan stops the plan cache from re-planning them on every call for their
-- parameters. The helpers above are SQL functions, planned anew on every call, so these
-- hot paths inline them. (About a third of the 0.2.0 triggers' cost per CREATE TABLE.)

-- Event trigger: every new table must inherit hectic.created_at.
CREATE OR REPLACE FUNCTION hectic.enforce_created_at_inheritance()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    created_at_parent constant regclass := to_regclass('hectic.created_at');
    setting  constant text := btrim(current_setting('hectic.inheritance_extra_excluded_schemas', true));
    excluded text[] := '{}';
    cmd   record;
    hint  text;
BEGIN
    IF setting <> '' THEN
        excluded := regexp_split_to_array(setting, '\s*,\s*');
        IF '*' = ANY (excluded) THEN
            RETURN;  -- enforcement is off
        END IF;
    END IF;

    SELECT c.oid, n.nspname, c.relname, c.relkind, d.command_tag INTO cmd
      FROM pg_event_trigger_ddl_commands() AS d
      JOIN pg_class AS c ON c.oid = d.objid
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE d.object_type = 'table'
       AND d.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
       AND NOT d.in_extension
       AND c.relkind IN ('r', 'p')         -- ordinary and partitioned tables only
       AND c.relpersistence <> 't'         -- temporary tables are exempt
       AND NOT c.relispartition            -- partitions are exempt
       AND n.nspname NOT IN ('hectic', 'information_schema')
       AND n.nspname NOT LIKE 'pg\_%'
       AND n.nspname::text <> ALL (excluded)
       AND NOT EXISTS (
               WITH RECURSIVE ancestors(relid) AS (
                   SELECT i.inhparent FROM pg_inherits AS i WHERE i.inhrelid = c.oid
                   UNION
                   SELECT i.inhparent FROM pg_inherits AS i JOIN ancestors AS a ON i.inhrelid = a.relid
               )
               SELECT 1 FROM ancestors WHERE ancestors.relid = created_at_parent)
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    IF created_at_parent IS NULL THEN
        RAISE EXCEPTION 'hectic.created_at is missing, so table %.% cannot satisfy the inheritance rule',
            quote_ident(cmd.nspname), quote_ident(cmd.relname)
            USING HINT = 'Re-apply the hectic bundle (migrator init).';
    END IF;
    IF cmd.relkind = 'p' THEN
        hint := 'A partitioned table cannot use INHERITS (hectic.created_at), so it must live in an exempt schema: '
             || 'with db-tool, add ' || cmd.nspname || ' to HECTIC_INHERITANCE_EXCLUDED_SCHEMAS (the setting '
             || 'hectic.inheritance_extra_excluded_schemas; for this statement only: '
             || 'SET LOCAL hectic.inheritance_extra_excluded_schemas = ''' || cmd.nspname || '''). Its partitions are exempt.';
    ELSIF cmd.command_tag <> 'CREATE TABLE' THEN
        hint := format('%s cannot declare a parent: CREATE TABLE %I.%I (…) INHERITS (hectic.created_at); then INSERT INTO %I.%I SELECT …',
                       cmd.command_tag, cmd.nspname, cmd.relname, cmd.nspname, cmd.relname);
    ELSE
        hint := format('CREATE TABLE %I.%I (…) INHERITS (hectic.created_at);', cmd.nspname, cmd.relname)
             || ' Or exempt the schema: with db-tool, HECTIC_INHERITANCE_EXCLUDED_SCHEMAS=' || cmd.nspname
             || ' (the setting hectic.inheritance_extra_excluded_schemas; ''*'': every schema).';
    END IF;
    RAISE EXCEPTION 'table %.% must inherit hectic.created_at', quote_ident(cmd.nspname), quote_ident(cmd.relname)
        USING ERRCODE = 'invalid_table_definition', HINT = hint;
END
$$;

COMMENT ON FUNCTION hectic.enforce_created_at_inheritance() IS 'event trigger: new tables must inherit hectic.created_at';

-- Event trigger: tables inheriting hectic.updated_at (at any depth) get the
-- hectic_set_updated_at row trigger. Also runs on ALTER TABLE so "ALTER TABLE t INHERIT
-- hectic.updated_at" is covered; an existing trigger of that name is left alone.
CREATE OR REPLACE FUNCTION hectic.attach_updated_at_trigger()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    updated_at_parent constant regclass := to_regclass('hectic.updated_at');
    cmd record;
BEGIN
    -- While no table inherits it directly, no table inherits it at all.
    IF updated_at_parent IS NULL OR NOT EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhparent = updated_at_parent) THEN
        RETURN;
    END IF;
    FOR cmd IN
        SELECT DISTINCT c.oid, n.nspname, c.relname
          FROM pg_event_trigger_ddl_commands() AS d
          JOIN pg_class AS c ON c.oid = d.objid
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE d.object_type = 'table'
           AND NOT d.in_extension
           AND c.relkind = 'r'
           AND c.oid <> updated_at_parent
           AND NOT EXISTS (SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = c.oid AND t.tgname = 'hectic_set_updated_at')
           AND EXISTS (
                   WITH RECURSIVE ancestors(relid) AS (
                       SELECT i.inhparent FROM pg_inherits AS i WHERE i.inhrelid = c.oid
                       UNION
                       SELECT i.inhparent FROM pg_inherits AS i JOIN ancestors AS a ON i.inhrelid = a.relid
                   )
                   SELECT 1 FROM ancestors WHERE ancestors.relid = updated_at_parent)
    LOOP
        EXECUTE format('CREATE TRIGGER hectic_set_updated_at BEFORE UPDATE ON %I.%I '
                       'FOR EACH ROW EXECUTE FUNCTION hectic.set_updated_at()',
                       cmd.nspname, cmd.relname);
    END LOOP;
END
$$;

COMMENT ON FUNCTION hectic.attach_updated_at_trigger() IS 'event trigger: attaches hectic_set_updated_at to hectic.updated_at inheritors';

-- Event trigger: tables inheriting hectic.immutable (at any depth) get
-- hectic_block_immutable_dml (row: INSERT/UPDATE/DELETE) and
-- hectic_block_immutable_truncate (statement: TRUNCATE, which fires no row triggers).
CREATE OR REPLACE FUNCTION hectic.attach_immutable_triggers()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    immutable_parent constant regclass := to_regclass('hectic.immutable');
    cmd record;
BEGIN
    -- While no table inherits it directly, no table inherits it at all.
    IF immutable_parent IS NULL OR NOT EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhparent = immutable_parent) THEN
        RETURN;
    END IF;
    FOR cmd IN
        SELECT DISTINCT c.oid, n.nspname, c.relname,
               EXISTS (SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = c.oid AND t.tgname = 'hectic_block_immutable_dml') AS has_dml,
               EXISTS (SELECT 1 FROM pg_trigger AS t WHERE t.tgrelid = c.oid AND t.tgname = 'hectic_block_immutable_truncate') AS has_truncate
          FROM pg_event_trigger_ddl_commands() AS d
          JOIN pg_class AS c ON c.oid = d.objid
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE d.object_type = 'table'
           AND NOT d.in_extension
           AND c.relkind = 'r'
           AND c.oid <> immutable_parent
           AND EXISTS (
                   WITH RECURSIVE ancestors(relid) AS (
                       SELECT i.inhparent FROM pg_inherits AS i WHERE i.inhrelid = c.oid
                       UNION
                       SELECT i.inhparent FROM pg_inherits AS i JOIN ancestors AS a ON i.inhrelid = a.relid
                   )
                   SELECT 1 FROM ancestors WHERE ancestors.relid = immutable_parent)
    LOOP
        IF NOT cmd.has_dml THEN
            EXECUTE format('CREATE TRIGGER hectic_block_immutable_dml BEFORE INSERT OR UPDATE OR DELETE ON %I.%I '
                           'FOR EACH ROW EXECUTE FUNCTION hectic.block_immutable_dml()',
                           cmd.nspname, cmd.relname);
        END IF;
        IF NOT cmd.has_truncate THEN
            EXECUTE format('CREATE TRIGGER hectic_block_immutable_truncate BEFORE TRUNCATE ON %I.%I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION hectic.block_immutable_dml()',
                           cmd.nspname, cmd.relname);
        END IF;
    END LOOP;
END
$$;

COMMENT ON FUNCTION hectic.attach_immutable_triggers() IS 'event trigger: attaches the DML/TRUNCATE blockers to hectic.immutable inheritors';

-- (Re)create the event triggers only when missing or defined differently (other
-- function, event or tags), so re-applying the bundle changes nothing. Whether a
-- trigger is enabled is the owner's choice (ALTER EVENT TRIGGER … DISABLE) and is kept.
DO $$
DECLARE
    spec record;
BEGIN
    FOR spec IN
        SELECT *
          FROM (VALUES
              ('hectic_enforce_created_at_inheritance', 'hectic.enforce_created_at_inheritance()',
               ARRAY['CREATE SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO']),
              ('hectic_attach_updated_at_trigger', 'hectic.attach_updated_at_trigger()',
               ARRAY['ALTER TABLE', 'CREATE SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO']),
              ('hectic_attach_immutable_triggers', 'hectic.attach_immutable_triggers()',
               ARRAY['ALTER TABLE', 'CREATE SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO'])
          ) AS s(trigger_name, function_signature, tags)
    LOOP
        IF EXISTS (
            SELECT 1
              FROM pg_event_trigger AS e
             WHERE e.evtname = spec.trigger_name
               AND e.evtevent = 'ddl_command_end'
               AND e.evtfoid = spec.function_signature::regprocedure
               AND (SELECT array_agg(upper(t) ORDER BY upper(t)) FROM unnest(e.evttags) AS t) = spec.tags
        ) THEN
            CONTINUE;
        END IF;
        EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I', spec.trigger_name);
        EXECUTE format('CREATE EVENT TRIGGER %I ON ddl_command_end WHEN TAG IN (%s) EXECUTE FUNCTION %s',
                       spec.trigger_name,
                       (SELECT string_agg(quote_literal(t), ', ') FROM unnest(spec.tags) AS t),
                       spec.function_signature);
    END LOOP;
END
$$;
