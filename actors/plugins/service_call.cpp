#include "actors/plugins/service_call.hpp"

#include "actors/clock.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <unistd.h>

namespace herald::actors {

sdk::call_result to_call_result(const probe_result& r) {
  sdk::call_result out;
  out.status = r.status;
  out.body = r.body;
  out.latency_ms = r.latency_ms;
  out.detail = r.detail;
  if (r.ok)
    out.outcome = "ok";
  else if (r.status != 0)
    out.outcome = "failed";
  else if (r.detail.rfind("timeout", 0) == 0)
    out.outcome = "timeout";
  else
    out.outcome = "refused";
  return out;
}

bool counts_as_failure(const probe_result& r) {
  return r.status == 0 || r.status >= 500;
}

namespace {

uint64_t rss_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident))
    return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

} // namespace

std::string node_stats_json(const node_context& ctx) {
  auto& m = ctx.metrics;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  auto num = [&](const char* key, int64_t v) {
    w.Key(key);
    w.Int64(v);
  };
  auto load = [](const auto& a) { return static_cast<int64_t>(a.load()); };
  w.StartObject();
  w.Key("node");
  w.String(ctx.settings.node_name.c_str());
  num("uptime_s", (now_us() / 1000 - ctx.started_ms) / 1000);
  num("connections", load(m.connections));
  num("sse_connections", load(m.sse_connections));
  num("channel_sessions", load(m.channel_sessions));
  num("subscriptions", load(m.subscriptions));
  num("topics", load(m.topics));
  num("publishes", load(m.publishes));
  // As /metrics counts them: the node's counters plus the live actors'.
  auto live = ctx.registry.connection_totals();
  num("deliveries", load(m.deliveries) + static_cast<int64_t>(live.delivered));
  num("drops", load(m.drops) + static_cast<int64_t>(live.dropped));
  num("rss_bytes", static_cast<int64_t>(rss_bytes()));
  num("threads", ctx.settings.threads.actors + ctx.settings.threads.io);
  auto cluster = ctx.cluster.get();
  num("members",
      cluster.enabled ? static_cast<int64_t>(cluster.members.size()) : 1);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

} // namespace herald::actors
