#include "actors/store/sql_store.hpp"

#include <chrono>

namespace herald::actors::store {

namespace {

// The columns every read returns, in this order.
constexpr const char* columns = "key, owner, grp, flag, value, seq, created_us";

sdk::record to_record(const sql_row& row) {
  sdk::record r;
  r.key = row[0];
  r.owner = row[1];
  r.group = row[2];
  r.flag = row[3] == "1" || row[3] == "t";
  r.value_json = row[4];
  r.seq = std::stoull(row[5]);
  r.created_us = std::stoll(row[6]);
  return r;
}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch())
      .count();
}

// `WHERE collection = $1 AND ...` for the query's filters; parameters are
// appended to `params`.
std::string where(const std::string& coll, const sdk::record_query& q,
                  std::vector<sql_param>& params) {
  params.emplace_back(coll);
  std::string sql = " WHERE collection = $1";
  auto add = [&](const char* column, const char* op, sql_param value) {
    params.push_back(std::move(value));
    sql += std::string{" AND "} + column + " " + op + " $"
           + std::to_string(params.size());
  };
  if (!q.owner.empty())
    add("owner", "=", q.owner);
  if (!q.group.empty())
    add("grp", "=", q.group);
  if (q.flag)
    add("flag", "=", int64_t{*q.flag ? 1 : 0});
  if (q.before_seq > 0)
    add("seq", "<", static_cast<int64_t>(q.before_seq));
  return sql;
}

} // namespace

std::string check_collection(const std::string& coll) {
  if (coll.empty() || coll.size() > 64)
    return "a collection name is 1 to 64 bytes";
  return {};
}

record_store::record_store(std::unique_ptr<sql_database> db)
    : db_(std::move(db)) {}

namespace {

// INSERT of one record with the sequence and creation time the store
// assigns; `tail` says what to do on a duplicate key.
sql_result insert(sql_database& db, const std::string& coll,
                  const sdk::record& r, const char* tail) {
  std::vector<sql_param> params{
      coll,         r.key,   r.owner, r.group, int64_t{r.flag ? 1 : 0},
      r.value_json, now_us()};
  auto seq = db.next_seq(params);
  return db.exec("INSERT INTO herald_records (collection, key, owner, grp, "
                 "flag, value, created_us, seq) VALUES ($1, $2, $3, $4, $5, "
                 "$6, $7, "
                     + seq + ") " + tail,
                 params);
}

} // namespace

sdk::record record_store::put(const std::string& coll, sdk::record r) {
  auto res = insert(*db_, coll, r,
                    "ON CONFLICT (collection, key) DO UPDATE SET owner = "
                    "excluded.owner, grp = excluded.grp, flag = excluded.flag, "
                    "value = excluded.value, seq = excluded.seq RETURNING "
                    "seq, created_us");
  if (!res.rows.empty()) {
    r.seq = std::stoull(res.rows[0][0]);
    r.created_us = std::stoll(res.rows[0][1]);
  }
  return r;
}

bool record_store::add(const std::string& coll, sdk::record r) {
  return insert(*db_, coll, r, "ON CONFLICT (collection, key) DO NOTHING")
             .changed
         == 1;
}

std::vector<sdk::record> record_store::get(const std::string& coll,
                                           const std::string& key) {
  auto res = db_->exec(std::string{"SELECT "} + columns
                           + " FROM herald_records WHERE collection = $1 AND "
                             "key = $2",
                       {coll, key});
  std::vector<sdk::record> out;
  for (auto& row : res.rows)
    out.push_back(to_record(row));
  return out;
}

std::vector<sdk::record> record_store::list(const std::string& coll,
                                            const sdk::record_query& q) {
  std::vector<sql_param> params;
  auto limit = std::min<uint32_t>(q.limit == 0 ? 100 : q.limit, 1000);
  auto sql = std::string{"SELECT "} + columns + " FROM herald_records"
             + where(coll, q, params) + " ORDER BY seq DESC LIMIT "
             + std::to_string(limit);
  auto res = db_->exec(sql, params);
  std::vector<sdk::record> out;
  out.reserve(res.rows.size());
  for (auto& row : res.rows)
    out.push_back(to_record(row));
  return out;
}

uint64_t record_store::count(const std::string& coll,
                             const sdk::record_query& q) {
  std::vector<sql_param> params;
  auto res = db_->exec(
      "SELECT COUNT(*) FROM herald_records" + where(coll, q, params), params);
  return res.rows.empty() ? 0 : std::stoull(res.rows[0][0]);
}

std::vector<std::string>
record_store::flag(const std::string& coll, const sdk::record_query& q,
                   const std::vector<std::string>& keys, bool value) {
  std::vector<std::string> changed;
  auto one = [&](const std::string* key) {
    std::vector<sql_param> params;
    auto cond = where(coll, q, params);
    if (key != nullptr) {
      params.emplace_back(*key);
      cond += " AND key = $" + std::to_string(params.size());
    }
    params.emplace_back(int64_t{value ? 1 : 0});
    auto v = "$" + std::to_string(params.size());
    auto res = db_->exec("UPDATE herald_records SET flag = " + v + cond
                             + " AND flag <> " + v + " RETURNING key",
                         params);
    for (auto& row : res.rows)
      changed.push_back(row[0]);
  };
  db_->exec("BEGIN", {});
  try {
    if (keys.empty())
      one(nullptr);
    for (auto& k : keys)
      one(&k);
    db_->exec("COMMIT", {});
  } catch (...) {
    try {
      db_->exec("ROLLBACK", {});
    } catch (...) {
      // The connection is gone; the transaction went with it.
    }
    throw;
  }
  return changed;
}

} // namespace herald::actors::store
