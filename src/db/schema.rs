// Hand-kept to match both migrations folders. IDs are UUIDv7 text on both backends so
// one schema serves both; timestamps are UTC.

diesel::table! {
    users (id) {
        id -> Text,
        phone -> Text,
        password_hash -> Text,
        name -> Text,
        role -> Text,
        occupation -> Nullable<Text>,
        region_code -> Nullable<Text>,
        employer -> Nullable<Text>,
        occupation_verified -> Bool,
        hardship_archived -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        session_id -> Text,
        token_hash -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
    }
}

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(users, sessions, refresh_tokens, app_settings);
