#pragma once

// The record store behind sdk::store_actor (docs/stores.md), in plain
// blocking C++: one SQL database (SQLite or PostgreSQL), one table of
// records. Only the store actor (store_actor.cpp) calls it, from its own
// thread, so it needs no locking. Failures throw store_failure.

#include "herald/sdk.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace herald::actors::store {

/// A database error, with the database's own message.
struct store_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A bound SQL parameter.
using sql_param = std::variant<std::string, int64_t>;

/// One result row, every column as text.
using sql_row = std::vector<std::string>;

/// What a statement returned: its rows and how many rows it changed.
struct sql_result {
  std::vector<sql_row> rows;
  uint64_t changed = 0;
};

/// The database, as the record operations need it. Statements are written
/// with `$1`, `$2`... placeholders; each backend translates them.
class sql_database {
public:
  virtual ~sql_database() = default;
  virtual sql_result exec(const std::string& sql,
                          const std::vector<sql_param>& params) = 0;
  /// The SQL for the next record sequence inside a write: PostgreSQL's
  /// sequence (no extra round trip), or for SQLite, whose file one node
  /// owns, a counter appended to `params` as the next placeholder.
  virtual std::string next_seq(std::vector<sql_param>& params) = 0;
  virtual const char* kind() const = 0;
};

/// Opens (and creates when missing) a SQLite database with the records
/// table; WAL mode, synchronous=FULL. Throws store_failure.
std::unique_ptr<sql_database> open_sqlite(const std::string& path);

/// Connects to PostgreSQL and creates the records table when missing.
/// Reconnects once per failing statement. Throws store_failure.
std::unique_ptr<sql_database> open_postgres(const std::string& url,
                                            uint32_t timeout_ms);

/// The record operations of sdk::store_actor over any sql_database.
class record_store {
public:
  explicit record_store(std::unique_ptr<sql_database> db);

  sdk::record put(const std::string& coll, sdk::record r);
  bool add(const std::string& coll, sdk::record r);
  std::vector<sdk::record> get(const std::string& coll, const std::string& key);
  std::vector<sdk::record> list(const std::string& coll,
                                const sdk::record_query& q);
  uint64_t count(const std::string& coll, const sdk::record_query& q);
  std::vector<std::string> flag(const std::string& coll,
                                const sdk::record_query& q,
                                const std::vector<std::string>& keys,
                                bool value);
  const char* kind() const { return db_->kind(); }

private:
  std::unique_ptr<sql_database> db_;
};

/// Limits a store request must respect; an error text or empty.
std::string check_collection(const std::string& coll);

} // namespace herald::actors::store
