#include "actors/store/schema.hpp"
#include "actors/store/sql_store.hpp"

#include <libpq-fe.h>

#include <cstdlib>

namespace herald::actors::store {

namespace {

class postgres_database final : public sql_database {
public:
  postgres_database(std::string url, uint32_t timeout_ms)
      : url_(std::move(url)), timeout_ms_(timeout_ms) {
    connect();
    // Nodes starting together would race on CREATE ... IF NOT EXISTS: one
    // at a time, under an advisory lock.
    exec("SELECT pg_advisory_lock(7243001)", {});
    try {
      for (auto* ddl : records_ddl)
        exec(ddl, {});
      exec("CREATE SEQUENCE IF NOT EXISTS herald_record_seq", {});
    } catch (...) {
      exec("SELECT pg_advisory_unlock(7243001)", {});
      PQfinish(conn_); // the destructor will not run
      conn_ = nullptr;
      throw;
    }
    exec("SELECT pg_advisory_unlock(7243001)", {});
  }

  ~postgres_database() override {
    if (conn_ != nullptr)
      PQfinish(conn_);
  }

  sql_result exec(const std::string& sql,
                  const std::vector<sql_param>& params) override {
    // A connection lost since the last statement is dialled again once;
    // inside a transaction that would lose the transaction, so not there.
    if (PQstatus(conn_) != CONNECTION_OK && !in_transaction_)
      connect();
    std::vector<std::string> texts;
    texts.reserve(params.size());
    for (auto& p : params)
      texts.push_back(std::holds_alternative<std::string>(p)
                          ? std::get<std::string>(p)
                          : std::to_string(std::get<int64_t>(p)));
    std::vector<const char*> values;
    for (auto& t : texts)
      values.push_back(t.c_str());
    PGresult* res =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()),
                     nullptr, values.data(), nullptr, nullptr, 0);
    struct clearer {
      PGresult* r;
      ~clearer() { PQclear(r); }
    } guard{res};
    auto status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      throw store_failure(std::string{"postgres: "}
                          + PQresultErrorMessage(res));
    if (sql == "BEGIN")
      in_transaction_ = true;
    else if (sql == "COMMIT" || sql == "ROLLBACK")
      in_transaction_ = false;
    sql_result out;
    auto rows = PQntuples(res);
    auto cols = PQnfields(res);
    for (int r = 0; r < rows; ++r) {
      sql_row row;
      for (int c = 0; c < cols; ++c)
        row.emplace_back(PQgetvalue(res, r, c));
      out.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(res);
    out.changed = tuples && *tuples ? std::strtoull(tuples, nullptr, 10) : 0;
    return out;
  }

  std::string next_seq(std::vector<sql_param>&) override {
    return "nextval('herald_record_seq')";
  }

  const char* kind() const override { return "postgres"; }

private:
  void connect() {
    if (conn_ != nullptr)
      PQfinish(conn_);
    auto seconds = std::to_string(std::max<uint32_t>(1, timeout_ms_ / 1000));
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url_.c_str(), seconds.c_str(), nullptr};
    // expand_dbname: `dbname` may be a whole connection string or URI.
    conn_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      // A failed PGconn still owns its buffers: freed here, since a throw
      // from the constructor runs no destructor (LeakSanitizer found it).
      std::string why{"postgres: cannot connect: "};
      why += PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      throw store_failure(why);
    }
  }

  std::string url_;
  uint32_t timeout_ms_;
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
};

} // namespace

std::unique_ptr<sql_database> open_postgres(const std::string& url,
                                            uint32_t timeout_ms) {
  return std::make_unique<postgres_database>(url, timeout_ms);
}

} // namespace herald::actors::store
