#pragma once

// The records table, the same for both databases (docs/stores.md).

namespace herald::actors::store {

inline constexpr const char* records_ddl[] = {
    "CREATE TABLE IF NOT EXISTS herald_records ("
    " collection TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " owner TEXT NOT NULL DEFAULT '',"
    " grp TEXT NOT NULL DEFAULT '',"
    " flag INTEGER NOT NULL DEFAULT 0,"
    " value TEXT NOT NULL,"
    " seq BIGINT NOT NULL,"
    " created_us BIGINT NOT NULL,"
    " PRIMARY KEY (collection, key))",
    // Paging one owner's records (a user's notifications), newest first.
    "CREATE INDEX IF NOT EXISTS herald_records_owner"
    " ON herald_records (collection, owner, seq)",
    // One group's records (a settings category).
    "CREATE INDEX IF NOT EXISTS herald_records_group"
    " ON herald_records (collection, grp, seq)",
};

} // namespace herald::actors::store
