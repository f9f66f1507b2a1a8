-- Instances reuse a session check for a few seconds (src/auth/session_cache.rs). These
-- triggers announce, when the change commits, every user whose sessions or account changed
-- in a way a session check reads; every instance's listener then forgets that user.
CREATE FUNCTION zhijian_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('zhijian_sessions', OLD.user_id);
  RETURN NULL;
END $$;

CREATE FUNCTION zhijian_account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('zhijian_sessions', OLD.id);
  RETURN NULL;
END $$;

CREATE TRIGGER sessions_announce AFTER UPDATE OF revoked_at OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION zhijian_session_changed();

CREATE TRIGGER users_announce AFTER UPDATE OF role, disabled_at, password_change_required ON users
  FOR EACH ROW
  WHEN (OLD.role IS DISTINCT FROM NEW.role
        OR OLD.disabled_at IS DISTINCT FROM NEW.disabled_at
        OR OLD.password_change_required IS DISTINCT FROM NEW.password_change_required)
  EXECUTE FUNCTION zhijian_account_changed();

CREATE TRIGGER users_announce_delete AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION zhijian_account_changed();
