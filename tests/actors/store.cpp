// actors/store (docs/stores.md): the record operations every plugin relies
// on, run the same way against SQLite and PostgreSQL. PostgreSQL runs when
// HERALD_TEST_POSTGRES_URL names a server (scripts/test.sh starts one);
// without it those cases say so and pass without checking.

#define CAF_SUITE actors.store

#include "actors/store/sql_store.hpp"

#include <caf/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include <unistd.h>

using namespace herald;
using namespace herald::actors::store;

namespace {

sdk::record rec(std::string key, std::string owner, std::string group = "",
                std::string value = "{}") {
  sdk::record r;
  r.key = std::move(key);
  r.owner = std::move(owner);
  r.group = std::move(group);
  r.value_json = std::move(value);
  return r;
}

// A collection of its own per run: a shared PostgreSQL keeps old runs.
std::string fresh_collection() {
  std::random_device rd;
  return "test-" + std::to_string(rd()) + std::to_string(rd());
}

// The behaviour both databases must share.
void exercise(record_store& s) {
  auto coll = fresh_collection();
  // put: insert, then replace keeping created_us, with a growing seq.
  auto a1 = s.put(coll, rec("a", "u1", "g1", "{\"v\":1}"));
  CAF_CHECK_GREATER(a1.created_us, 0);
  auto a2 = s.put(coll, rec("a", "u1", "g2", "{\"v\":2}"));
  CAF_CHECK_GREATER(a2.seq, a1.seq);
  CAF_CHECK_EQUAL(a2.created_us, a1.created_us);
  auto got = s.get(coll, "a");
  CAF_REQUIRE_EQUAL(got.size(), 1u);
  CAF_CHECK_EQUAL(got[0].value_json, "{\"v\":2}");
  CAF_CHECK_EQUAL(got[0].group, "g2");
  CAF_CHECK(s.get(coll, "missing").empty());
  // add: only once per key.
  CAF_CHECK(s.add(coll, rec("b", "u1")));
  CAF_CHECK(!s.add(coll, rec("b", "u1", "", "{\"other\":true}")));
  auto b = s.get(coll, "b");
  CAF_CHECK_EQUAL(b.at(0).value_json, "{}");
  for (int i = 0; i < 5; ++i)
    s.add(coll, rec("n" + std::to_string(i), "u2"));
  // list: newest first, filtered, paged by seq.
  sdk::record_query q;
  q.owner = "u2";
  auto all = s.list(coll, q);
  CAF_REQUIRE_EQUAL(all.size(), 5u);
  CAF_CHECK_EQUAL(all[0].key, "n4");
  CAF_CHECK_EQUAL(all[4].key, "n0");
  q.limit = 2;
  auto page1 = s.list(coll, q);
  CAF_REQUIRE_EQUAL(page1.size(), 2u);
  q.before_seq = page1.back().seq;
  auto page2 = s.list(coll, q);
  CAF_REQUIRE_EQUAL(page2.size(), 2u);
  CAF_CHECK_EQUAL(page2[0].key, "n2");
  sdk::record_query by_group;
  by_group.group = "g2";
  CAF_CHECK_EQUAL(s.list(coll, by_group).size(), 1u);
  // count and flag: unread of u2, marking some, then all.
  sdk::record_query unread;
  unread.owner = "u2";
  unread.flag = false;
  CAF_CHECK_EQUAL(s.count(coll, unread), 5u);
  auto changed = s.flag(coll, unread, {"n1", "n3", "a"}, true);
  CAF_CHECK_EQUAL(changed.size(), 2u); // `a` is u1's
  CAF_CHECK_EQUAL(s.count(coll, unread), 3u);
  CAF_CHECK(s.flag(coll, unread, {"n1"}, true).empty()); // read already
  auto rest = s.flag(coll, unread, {}, true);
  CAF_CHECK_EQUAL(rest.size(), 3u);
  CAF_CHECK_EQUAL(s.count(coll, unread), 0u);
  sdk::record_query u1;
  u1.owner = "u1";
  CAF_CHECK_EQUAL(s.count(coll, u1), 2u);
  // Quotes and other bytes in values survive.
  auto odd = rec("q'uote", "u3", "", "{\"s\":\"it's; DROP TABLE x\"}");
  s.put(coll, odd);
  auto back = s.get(coll, "q'uote");
  CAF_REQUIRE_EQUAL(back.size(), 1u);
  CAF_CHECK_EQUAL(back[0].value_json, odd.value_json);
}

template <class F>
bool throws_failure(F f) {
  try {
    f();
  } catch (const store_failure&) {
    return true;
  }
  return false;
}

} // namespace

CAF_TEST(sqlite passes the store tests) {
  auto path = std::filesystem::temp_directory_path()
              / ("herald-store-" + std::to_string(::getpid()) + ".db");
  {
    record_store s(open_sqlite(path.string()));
    exercise(s);
  }
  // Reopened, the data and the sequence carry on.
  {
    record_store s(open_sqlite(path.string()));
    auto coll = fresh_collection();
    auto r = s.put(coll, rec("k", "u"));
    CAF_CHECK_GREATER(r.seq, 10u);
  }
  for (auto ext : {"", "-wal", "-shm"})
    std::filesystem::remove(path.string() + ext);
}

CAF_TEST(sqlite refuses a path it cannot open) {
  CAF_CHECK(throws_failure([] { open_sqlite("/nonexistent-dir/x/h.db"); }));
}

CAF_TEST(postgres passes the store tests) {
  auto* url = std::getenv("HERALD_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    std::cout << "SKIPPED: actors.store postgres: HERALD_TEST_POSTGRES_URL "
                 "is not set (scripts/test.sh starts a server and sets it)"
              << std::endl;
    return;
  }
  record_store s(open_postgres(url, 5000));
  exercise(s);
  // A second connection (another node) sees the same records.
  record_store other(open_postgres(url, 5000));
  auto coll = fresh_collection();
  CAF_CHECK(s.add(coll, rec("shared", "u")));
  CAF_CHECK(!other.add(coll, rec("shared", "u")));
  CAF_CHECK_EQUAL(other.get(coll, "shared").size(), 1u);
}

CAF_TEST(postgres refuses a server it cannot reach) {
  CAF_CHECK(throws_failure(
      [] { open_postgres("postgresql://nobody@127.0.0.1:1/none", 1000); }));
}
