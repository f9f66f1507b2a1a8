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
        union_id -> Nullable<Text>,
        occupation_verified_by -> Nullable<Text>,
        disabled_at -> Nullable<Timestamp>,
        password_change_required -> Bool,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    partners (id) {
        id -> Text,
        union_id -> Text,
        name -> Text,
        client_id -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    partner_grants (id) {
        id -> Text,
        user_id -> Text,
        partner_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attestations (id) {
        id -> Text,
        partner_id -> Text,
        phone_hash -> Text,
        phone_masked -> Text,
        occupation -> Text,
        employer -> Nullable<Text>,
        reference -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        applied_at -> Nullable<Timestamp>,
        applied_user_id -> Nullable<Text>,
    }
}

diesel::table! {
    partner_calls (id) {
        id -> Text,
        partner_id -> Text,
        method -> Text,
        route -> Text,
        status -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        partner_id -> Text,
        url -> Text,
        events -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        outbox_id -> Text,
        attempt -> Integer,
        status_code -> Nullable<Integer>,
        error -> Nullable<Text>,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    join_codes (code_hash) {
        code_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
        refreshed_at -> Nullable<Timestamp>,
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
        parent_id -> Nullable<Text>,
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
diesel::allow_tables_to_appear_in_same_query!(sessions, refresh_tokens);
diesel::allow_tables_to_appear_in_same_query!(sessions, users);
diesel::allow_tables_to_appear_in_same_query!(sessions, campaigns);
diesel::allow_tables_to_appear_in_same_query!(refresh_tokens, users);

diesel::table! {
    unions (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        name -> Text,
        kind -> Text,
        region_code -> Text,
        onsite_auto_approve -> Bool,
        member_seq -> BigInt,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    stations (id) {
        id -> Text,
        union_id -> Text,
        name -> Text,
        address -> Nullable<Text>,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        open_24h -> Bool,
        opening_hours -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    staff_stations (user_id, station_id) {
        user_id -> Text,
        station_id -> Text,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        user_id -> Text,
        union_id -> Text,
        member_no -> Text,
        since -> Timestamp,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    membership_applications (id) {
        id -> Text,
        kind -> Text,
        user_id -> Text,
        union_id -> Text,
        from_membership_id -> Nullable<Text>,
        status -> Text,
        submitted_by -> Text,
        station_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        membership_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_id -> Text,
        detail -> Text,
        created_at -> Timestamp,
        subject_type -> Text,
        union_id -> Nullable<Text>,
        seq -> Nullable<BigInt>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
        mac -> Text,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        attempts -> Integer,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    roster_entries (phone_tag) {
        phone_tag -> Text,
        union_id -> Text,
        name -> Text,
        occupation -> Nullable<Text>,
        region_code -> Nullable<Text>,
        member_since -> Timestamp,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        union_id -> Text,
        title -> Text,
        item_name -> Text,
        description -> Nullable<Text>,
        total_stock -> BigInt,
        per_worker_limit -> Integer,
        claim_starts_at -> Timestamp,
        claim_ends_at -> Timestamp,
        redeem_until -> Timestamp,
        rules -> Text,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        voucher_valid_days -> Nullable<Integer>,
        next_release_at -> Nullable<Timestamp>,
        mode -> Text,
        fulfilment -> Text,
        allocation_pending -> Bool,
        allocation_generation -> Integer,
        allocation_heartbeat -> Nullable<Timestamp>,
    }
}

diesel::table! {
    campaign_stock_releases (campaign_id, seq) {
        campaign_id -> Text,
        seq -> Integer,
        release_at -> Timestamp,
        quantity -> BigInt,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    voucher_reminders (voucher_id, stage) {
        voucher_id -> Text,
        stage -> Integer,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        title -> Text,
        body -> Text,
        voucher_id -> Nullable<Text>,
        campaign_id -> Nullable<Text>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        target -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        attempts -> Integer,
        lease_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        gave_up_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    campaign_stations (campaign_id, station_id) {
        campaign_id -> Text,
        station_id -> Text,
    }
}

diesel::table! {
    campaign_stock_shards (campaign_id, shard) {
        campaign_id -> Text,
        shard -> Integer,
        remaining -> BigInt,
    }
}

diesel::table! {
    vouchers (id) {
        id -> Text,
        campaign_id -> Text,
        user_id -> Text,
        claim_no -> Integer,
        code_hash -> Text,
        stock_shard -> Integer,
        status -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoked_reason -> Nullable<Text>,
        stock_returned_at -> Nullable<Timestamp>,
        admin_reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (principal_id, idem_key) {
        principal_id -> Text,
        idem_key -> Text,
        request_hash -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    redemptions (id) {
        id -> Text,
        voucher_id -> Text,
        campaign_id -> Text,
        station_id -> Text,
        counter_id -> Text,
        terminal_id -> Nullable<Text>,
        redeemed_at -> Timestamp,
        reversed_at -> Nullable<Timestamp>,
        reversed_by -> Nullable<Text>,
        reversal_reason -> Nullable<Text>,
        method -> Text,
    }
}

diesel::table! {
    voucher_ratings (voucher_id) {
        voucher_id -> Text,
        user_id -> Text,
        campaign_id -> Text,
        station_id -> Nullable<Text>,
        score -> Integer,
        comment -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    wishes (id) {
        id -> Text,
        user_id -> Text,
        category -> Text,
        text -> Text,
        status -> Text,
        created_at -> Timestamp,
        fulfilled_at -> Nullable<Timestamp>,
        voucher_id -> Nullable<Text>,
    }
}

diesel::joinable!(stations -> unions (union_id));
diesel::joinable!(membership_applications -> users (user_id));
diesel::joinable!(staff_stations -> stations (station_id));
diesel::joinable!(memberships -> unions (union_id));
diesel::joinable!(membership_applications -> unions (union_id));
diesel::joinable!(campaigns -> unions (union_id));
diesel::joinable!(campaign_stations -> campaigns (campaign_id));
diesel::joinable!(campaign_stations -> stations (station_id));
diesel::joinable!(vouchers -> campaigns (campaign_id));
diesel::joinable!(redemptions -> vouchers (voucher_id));
diesel::joinable!(join_codes -> users (user_id));
diesel::joinable!(campaign_stock_releases -> campaigns (campaign_id));
diesel::joinable!(voucher_reminders -> vouchers (voucher_id));
diesel::joinable!(notifications -> users (user_id));
diesel::joinable!(partners -> unions (union_id));
diesel::joinable!(partner_grants -> partners (partner_id));
diesel::joinable!(partner_grants -> users (user_id));
diesel::joinable!(attestations -> partners (partner_id));
diesel::joinable!(webhook_endpoints -> partners (partner_id));
diesel::joinable!(webhook_attempts -> outbox (outbox_id));
diesel::joinable!(voucher_ratings -> vouchers (voucher_id));
diesel::joinable!(wishes -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    unions,
    stations,
    staff_stations,
    memberships,
    membership_applications,
    audit_events,
    campaigns,
    campaign_stations,
    campaign_stock_shards,
    vouchers,
    idempotency_keys,
    redemptions,
    join_codes,
    campaign_stock_releases,
    voucher_reminders,
    notifications,
    outbox,
    partners,
    partner_grants,
    attestations,
    partner_calls,
    webhook_endpoints,
    webhook_attempts,
    password_resets,
    roster_entries,
    app_settings,
    voucher_ratings,
    wishes
);
