-- 060_roles.sql — the three database roles of a deployment (README "Database roles").
--
--   owner   the role that runs af-db migrate: owns every table, view and function,
--           and through create_feature_views() also the views of new feature sets;
--   worker  the stages (af-ingest, af-fetch, af-extract, af-train, ...): reads and
--           writes data, creates nothing (no DDL);
--   reader  analysts: SELECT on every table and view, also on views created later.
--
-- af-db roles (run by the owner, or by a superuser) calls af_setup_roles() and
-- af_add_role_member() below; the migration itself creates no role, since roles
-- belong to the whole server and a migration may run where that is not allowed.

-- A worker registering a feature set (af-extract) creates its two views through this
-- function: it runs with its owner's rights, so the views belong to the owner (and
-- the reader sees them through the owner's default privileges).
ALTER FUNCTION create_feature_views(integer) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE ALL ON FUNCTION create_feature_views(integer) FROM PUBLIC;

-- Creates the worker and reader roles when missing (NOLOGIN: log-in roles are made
-- members, see af_add_role_member) and grants what each needs, now and for tables,
-- views and sequences the owner creates later.  Idempotent.
CREATE FUNCTION af_setup_roles(p_worker text, p_reader text) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    owner_role text;
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY[p_worker, p_reader] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    -- The owner: whoever ran the migrations (and so owns create_feature_views).
    SELECT tableowner INTO owner_role FROM pg_tables
    WHERE schemaname = 'public' AND tablename = 'schema_migrations';

    -- Nobody but the owner creates anything in the schema.
    EXECUTE 'REVOKE CREATE ON SCHEMA public FROM PUBLIC';
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', p_worker, p_reader);
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), p_worker);
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), p_reader);

    -- worker: data only; the migrations' own table stays the owner's to write.
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', p_worker);
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM %I', p_worker);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO %I', p_worker);
    EXECUTE format('GRANT EXECUTE ON FUNCTION create_feature_views(integer) TO %I', p_worker);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public'
                   ' GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', owner_role, p_worker);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public'
                   ' GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', owner_role, p_worker);

    -- reader: SELECT on every table and view, including those created later (the
    -- views of each new feature set).
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', p_reader);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public'
                   ' GRANT SELECT ON TABLES TO %I', owner_role, p_reader);
END
$$;

-- Makes p_login (created as a LOGIN role without password when missing: set one with
-- ALTER ROLE ... PASSWORD, or use peer or certificate authentication) a member of
-- p_group (the worker or reader role).
CREATE FUNCTION af_add_role_member(p_login text, p_group text) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_login) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', p_login);
    END IF;
    EXECUTE format('GRANT %I TO %I', p_group, p_login);
END
$$;

REVOKE ALL ON FUNCTION af_setup_roles(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION af_add_role_member(text, text) FROM PUBLIC;
