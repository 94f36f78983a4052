#include "actors/store/schema.hpp"
#include "actors/store/sql_store.hpp"

#include <sqlite3.h>

namespace herald::actors::store {

namespace {

class sqlite_database final : public sql_database {
public:
  explicit sqlite_database(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                            | SQLITE_OPEN_NOMUTEX,
                        nullptr)
        != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw store_failure("cannot open " + path + ": " + why);
    }
    // Another process holding the file (a second node by mistake) makes
    // writes wait this long, then fail, rather than fail at once.
    sqlite3_busy_timeout(db_, 2000);
    // WAL with FULL sync: a commit is on disk before the store answers,
    // so a write a client was told of survives a crash of the node (and
    // of the machine).
    exec("PRAGMA journal_mode=WAL", {});
    exec("PRAGMA synchronous=FULL", {});
    for (auto* ddl : records_ddl)
      exec(ddl, {});
    auto res = exec("SELECT COALESCE(MAX(seq), 0) FROM herald_records", {});
    seq_ = std::stoll(res.rows.at(0).at(0));
  }

  ~sqlite_database() override { sqlite3_close(db_); }

  sql_result exec(const std::string& sql,
                  const std::vector<sql_param>& params) override {
    // `$n` placeholders are SQLite's `?n`.
    std::string text = sql;
    for (auto& c : text)
      if (c == '$')
        c = '?';
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()),
                           &stmt, nullptr)
        != SQLITE_OK)
      throw store_failure(std::string{"sqlite: "} + sqlite3_errmsg(db_));
    struct finalizer {
      sqlite3_stmt* s;
      ~finalizer() { sqlite3_finalize(s); }
    } guard{stmt};
    for (size_t i = 0; i < params.size(); ++i) {
      auto idx = static_cast<int>(i + 1);
      if (auto* s = std::get_if<std::string>(&params[i]))
        sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()),
                          SQLITE_TRANSIENT);
      else
        sqlite3_bind_int64(stmt, idx, std::get<int64_t>(params[i]));
    }
    sql_result out;
    for (;;) {
      auto rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE)
        break;
      if (rc != SQLITE_ROW)
        throw store_failure(std::string{"sqlite: "} + sqlite3_errmsg(db_));
      sql_row row;
      auto n = sqlite3_column_count(stmt);
      for (int c = 0; c < n; ++c) {
        auto* p = sqlite3_column_text(stmt, c);
        row.emplace_back(p ? reinterpret_cast<const char*>(p) : "");
      }
      out.rows.push_back(std::move(row));
    }
    out.changed = static_cast<uint64_t>(sqlite3_changes(db_));
    return out;
  }

  std::string next_seq(std::vector<sql_param>& params) override {
    params.emplace_back(++seq_);
    return "$" + std::to_string(params.size());
  }

  const char* kind() const override { return "sqlite"; }

private:
  sqlite3* db_ = nullptr;
  int64_t seq_ = 0;
};

} // namespace

std::unique_ptr<sql_database> open_sqlite(const std::string& path) {
  return std::make_unique<sqlite_database>(path);
}

} // namespace herald::actors::store
