// One schema for both backends; the migrations under migrations/{sqlite,postgres} must produce it
// (tests/app/schema.rs compares them).

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        all_organizations -> Bool,
        last_login_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        client_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_email -> Text,
        action -> Text,
        summary -> Text,
        organization_id -> Nullable<BigInt>,
        organization_name -> Nullable<Text>,
        parent_from -> Nullable<BigInt>,
        parent_to -> Nullable<BigInt>,
        subject_user_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    organization_types (id) {
        id -> BigInt,
        name -> Text,
        synced -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organization_statuses (id) {
        id -> BigInt,
        name -> Text,
        synced -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organization_name_marks (search_text, id) {
        search_text -> Text,
        id -> BigInt,
        total -> BigInt,
    }
}

diesel::table! {
    organization_update_marks (updated_at, id) {
        updated_at -> Timestamp,
        id -> BigInt,
        total -> BigInt,
    }
}

diesel::table! {
    organization_marks_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    organization_counts (type_id, status_id, psa_linked) {
        type_id -> BigInt,
        status_id -> BigInt,
        psa_linked -> Bool,
        total -> BigInt,
    }
}

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        name_key -> Text,
        search_text -> Text,
        short_name -> Text,
        description -> Text,
        quick_notes -> Text,
        alert -> Text,
        type_id -> Nullable<BigInt>,
        status_id -> Nullable<BigInt>,
        parent_id -> Nullable<BigInt>,
        psa_kind -> Nullable<Text>,
        psa_company_id -> Nullable<Text>,
        sync_enabled -> Bool,
        orphaned_at -> Nullable<Timestamp>,
        orphan_reason -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deletion_job_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_organizations (user_id, organization_id) {
        user_id -> BigInt,
        organization_id -> BigInt,
    }
}

diesel::table! {
    logos (organization_id) {
        organization_id -> BigInt,
        content_type -> Text,
        width -> Integer,
        height -> Integer,
        sha256 -> Text,
        bytes -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    flexible_asset_types (id) {
        id -> BigInt,
        name -> Text,
        fields -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    records (id) {
        id -> BigInt,
        organization_id -> BigInt,
        kind -> Text,
        title -> Text,
        field_values -> Text,
        asset_type_id -> Nullable<BigInt>,
        secret_nonce -> Nullable<Binary>,
        secret_sealed -> Nullable<Binary>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        otp_nonce -> Nullable<Binary>,
        otp_sealed -> Nullable<Binary>,
    }
}

diesel::table! {
    search_terms (id) {
        id -> BigInt,
        organization_id -> BigInt,
        record_id -> Nullable<BigInt>,
        kind -> Text,
        title -> Text,
        shown -> Text,
        terms -> Text,
        ipv4 -> Nullable<BigInt>,
        standing -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    search_values (value, terms_id) {
        value -> Text,
        terms_id -> BigInt,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        organization_id -> Nullable<BigInt>,
        state -> Text,
        attempts -> Integer,
        run_after -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        progress_done -> BigInt,
        progress_total -> BigInt,
        last_error -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    psa_settings (id) {
        id -> BigInt,
        kind -> Text,
        base_url -> Text,
        codebase -> Text,
        account -> Text,
        credentials_nonce -> Binary,
        credentials_sealed -> Binary,
        direction -> Text,
        interval_minutes -> Integer,
        default_site -> Text,
        default_address -> Text,
        default_owner -> Text,
        default_phone -> Text,
        next_load_at -> Nullable<Timestamp>,
        updated_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    psa_type_map (psa_name) {
        psa_name -> Text,
        type_id -> BigInt,
    }
}

diesel::table! {
    psa_status_map (psa_name) {
        psa_name -> Text,
        status_id -> BigInt,
    }
}

diesel::table! {
    psa_loads (id) {
        id -> BigInt,
        kind -> Text,
        trigger -> Text,
        state -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        companies -> Integer,
        created -> Integer,
        matched -> Integer,
        updated -> Integer,
        orphaned -> Integer,
        failed -> Integer,
        error -> Nullable<Text>,
        report -> Text,
    }
}

diesel::table! {
    psa_previews (id) {
        id -> BigInt,
        psa_kind -> Text,
        state -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        job_id -> Nullable<BigInt>,
        mapping -> Nullable<Text>,
        companies -> Integer,
        fingerprint -> Text,
        plan_digest -> Text,
        created -> Integer,
        linked -> Integer,
        updated -> Integer,
        unchanged -> Integer,
        orphaned -> Integer,
        same_name -> Integer,
        excluded -> Integer,
        not_syncing -> Integer,
        report -> Text,
        error -> Nullable<Text>,
        load_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    psa_preview_items (id) {
        id -> BigInt,
        preview_id -> BigInt,
        position -> Integer,
        decision -> Text,
        company_id -> Text,
        company_name -> Text,
        organization_id -> Nullable<BigInt>,
        organization_name -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    psa_exclusions (id) {
        id -> BigInt,
        psa_kind -> Text,
        company_id -> Text,
        name -> Text,
        organization_id -> Nullable<BigInt>,
        excluded_by -> Text,
        excluded_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (email_hash, address) {
        email_hash -> Text,
        address -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_failure_at -> Timestamp,
    }
}

diesel::table! {
    totp_factors (user_id) {
        user_id -> BigInt,
        secret_nonce -> Binary,
        secret_sealed -> Binary,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    passkeys (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        credential_id -> Text,
        credential -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    pending_signins (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        purpose -> Text,
        next_path -> Text,
        ceremony -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    passkey_registrations (session_hash) {
        session_hash -> Text,
        user_id -> BigInt,
        name -> Text,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        user_id -> BigInt,
        password_access -> Bool,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        last_used_from -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organization_merges (id) {
        id -> BigInt,
        merged_id -> BigInt,
        kept_id -> BigInt,
        deletion_job_id -> BigInt,
        merged_by -> Nullable<BigInt>,
        merged_at -> Timestamp,
        record_ids -> Text,
        sub_ids -> Text,
        access_user_ids -> Text,
        logo_moved -> Bool,
        psa_moved -> Bool,
        before_merge -> Text,
        undone_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(totp_factors -> users (user_id));
diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(passkey_registrations -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(pending_signins -> users (user_id));
diesel::joinable!(psa_type_map -> organization_types (type_id));
diesel::joinable!(psa_status_map -> organization_statuses (status_id));
diesel::joinable!(records -> organizations (organization_id));
diesel::joinable!(psa_preview_items -> psa_previews (preview_id));
diesel::joinable!(search_terms -> organizations (organization_id));
diesel::joinable!(records -> flexible_asset_types (asset_type_id));
diesel::table! {
    import_sources (kind, source_id) {
        kind -> Text,
        source_id -> Text,
        target_id -> BigInt,
        fingerprint -> Text,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    import_runs (job_id) {
        job_id -> BigInt,
        source -> Text,
        started_at -> Timestamp,
        stage -> Integer,
        stage_rows -> BigInt,
        created -> BigInt,
        updated -> BigInt,
        unchanged -> BigInt,
        failed -> BigInt,
        kept -> BigInt,
    }
}

diesel::table! {
    import_notes (id) {
        id -> BigInt,
        job_id -> BigInt,
        file -> Text,
        line -> BigInt,
        note -> Text,
    }
}

diesel::joinable!(logos -> organizations (organization_id));
diesel::joinable!(organizations -> organization_types (type_id));
diesel::joinable!(organizations -> organization_statuses (status_id));
diesel::joinable!(user_organizations -> users (user_id));
diesel::joinable!(user_organizations -> organizations (organization_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    api_keys,
    sessions,
    app_settings,
    audit_events,
    organization_types,
    organization_statuses,
    organization_counts,
    organization_marks_version,
    organization_name_marks,
    organization_update_marks,
    organizations,
    psa_exclusions,
    user_organizations,
    logos,
    flexible_asset_types,
    records,
    search_terms,
    search_values,
    jobs,
    psa_settings,
    psa_type_map,
    psa_status_map,
    psa_loads,
    psa_previews,
    psa_preview_items,
    totp_factors,
    passkeys,
    passkey_registrations,
    recovery_codes,
    pending_signins,
    organization_merges,
    import_sources,
    import_runs,
    import_notes,
);
