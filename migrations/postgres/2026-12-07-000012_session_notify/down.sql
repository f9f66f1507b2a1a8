DROP TRIGGER users_announce_delete ON users;
DROP TRIGGER users_announce ON users;
DROP TRIGGER sessions_announce ON sessions;
DROP FUNCTION zhijian_account_changed();
DROP FUNCTION zhijian_session_changed();
