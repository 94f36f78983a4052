#include "actors/store/store_actor.hpp"

#include "actors/instrument.hpp"
#include "actors/store/sql_store.hpp"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

namespace herald::actors {

namespace {

struct store_state {
  static inline const char* name = "herald.store";
  std::shared_ptr<store::record_store> records;
  actor_counters* counters = nullptr;
};

using self_ptr = sdk::store_actor::stateful_pointer<store_state>;

// Runs `op` on the database; a failure is an error to the caller (and a
// log line), never an exception out of the actor.
template <class Op>
auto guarded(self_ptr self, const std::string& coll, Op op)
    -> caf::result<decltype(op(*self->state.records))> {
  count_message(self, self->state.counters);
  if (auto problem = store::check_collection(coll); !problem.empty())
    return caf::make_error(caf::sec::invalid_argument, problem);
  try {
    return op(*self->state.records);
  } catch (const std::exception& e) {
    auto log = spdlog::get("actors");
    (log ? log : spdlog::default_logger())->warn("store: {}", e.what());
    return caf::make_error(caf::sec::runtime_error, e.what());
  }
}

sdk::store_actor::behavior_type
store_behavior(self_ptr self, context_ptr ctx,
               std::shared_ptr<store::record_store> records) {
  self->state.counters = enroll(self, ctx, actor_kind::store,
                                std::string{"store:"} + records->kind(), 0);
  self->state.records = std::move(records);
  using store::record_store;
  return {
      [=](sdk::put_atom, const std::string& coll, sdk::record& r) {
        return guarded(self, coll, [&](record_store& s) {
          return s.put(coll, std::move(r));
        });
      },
      [=](sdk::add_atom, const std::string& coll, sdk::record& r) {
        return guarded(self, coll, [&](record_store& s) {
          return s.add(coll, std::move(r));
        });
      },
      [=](sdk::get_atom, const std::string& coll, const std::string& key) {
        return guarded(self, coll,
                       [&](record_store& s) { return s.get(coll, key); });
      },
      [=](sdk::list_atom, const std::string& coll, const sdk::record_query& q) {
        return guarded(self, coll,
                       [&](record_store& s) { return s.list(coll, q); });
      },
      [=](sdk::count_atom, const std::string& coll,
          const sdk::record_query& q) {
        return guarded(self, coll,
                       [&](record_store& s) { return s.count(coll, q); });
      },
      [=](sdk::flag_atom, const std::string& coll, const sdk::record_query& q,
          const std::vector<std::string>& keys, bool value) {
        return guarded(self, coll, [&](record_store& s) {
          return s.flag(coll, q, keys, value);
        });
      },
  };
}

} // namespace

std::variant<sdk::store_actor, std::string>
spawn_store(caf::actor_system& sys, const context_ptr& ctx) {
  auto& cfg = ctx->settings.store;
  std::shared_ptr<store::record_store> records;
  try {
    if (cfg.kind == "postgres")
      records = std::make_shared<store::record_store>(
          store::open_postgres(cfg.postgres_url, cfg.connect_timeout_ms));
    else
      records = std::make_shared<store::record_store>(
          store::open_sqlite(cfg.sqlite_path));
  } catch (const std::exception& e) {
    return std::string{cfg.kind == "postgres" ? "store.postgres.url"
                                              : "store.sqlite.path"}
           + ": " + e.what();
  }
  return sys.spawn<caf::detached>(store_behavior, ctx, std::move(records));
}

} // namespace herald::actors
