#define CAF_SUITE actors.webhook
#include "actors/webhook.hpp"

#include "actors/chat_events.hpp"

#include "tests/actors/fixture.hpp"
#include <caf/test/dsl.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

using namespace herald;
using namespace herald::actors;
using namespace herald::actors::testing;
using namespace herald::protocol;

namespace {

struct calls {
  std::deque<bool> script; ///< the next answers; ok once it runs out
  std::vector<std::string> bodies;
  std::vector<std::string> methods;
};
using calls_ptr = std::shared_ptr<calls>;

prober_actor::behavior_type fake_webhook(prober_actor::pointer, calls_ptr c) {
  return {
      [=](probe_atom, const probe_spec& spec) {
        c->bodies.push_back(spec.body);
        c->methods.push_back(spec.method + " " + spec.host + ":"
                             + std::to_string(spec.port) + spec.path);
        bool ok = true;
        if (!c->script.empty()) {
          ok = c->script.front();
          c->script.pop_front();
        }
        return ok ? probe_result{true, 1, "204", 204, {}}
                  : probe_result{false, 1, "500", 500, {}};
      },
  };
}

struct webhook_fixture : fixture {
  calls_ptr c = std::make_shared<calls>();
  webhook_actor hook;

  webhook_fixture() {
    auto& cfg = ctx->settings.chat_events;
    cfg.webhook_backoff_ms = 100;
    cfg.webhook_max_attempts = 3;
    cfg.webhook_failure_threshold = 5;
    cfg.webhook_open_ms = 1000;
    cfg.webhook_queue_max = 4;
  }
  ~webhook_fixture() {
    caf::anon_send_exit(hook, caf::exit_reason::user_shutdown);
    sched.run();
  }
  void start() {
    http_url url{"127.0.0.1", 9000, "/hook"};
    hook = spawn_webhook(sys, ctx, url, sys.spawn(fake_webhook, c));
    sched.run();
  }
  void post(std::string body) {
    self->send(hook, publish_atom::value, std::move(body));
    sched.run();
  }
  void advance(int ms) {
    sched.advance_time(std::chrono::milliseconds{ms});
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(webhook_tests, webhook_fixture)

CAF_TEST(posts each event in order to the url) {
  start();
  post("{\"n\":1}");
  post("{\"n\":2}");
  CAF_REQUIRE_EQUAL(c->bodies.size(), 2u);
  CAF_CHECK_EQUAL(c->bodies[0], "{\"n\":1}");
  CAF_CHECK_EQUAL(c->bodies[1], "{\"n\":2}");
  CAF_CHECK_EQUAL(c->methods[0], "POST 127.0.0.1:9000/hook");
  auto posts = ctx->metrics.webhook_posts.load();
  CAF_CHECK_EQUAL(posts, 2u);
  auto queued = ctx->metrics.webhook_queue.load();
  CAF_CHECK_EQUAL(queued, 0);
}

CAF_TEST(retries after a doubling backoff then goes on in order) {
  start();
  c->script = {false, false, true};
  post("a");
  post("b");
  CAF_CHECK_EQUAL(c->bodies.size(), 1u); // waiting 100 ms
  advance(100);
  CAF_CHECK_EQUAL(c->bodies.size(), 2u); // then 200 ms
  advance(100);
  CAF_CHECK_EQUAL(c->bodies.size(), 2u);
  advance(100);
  // the third attempt at a succeeds, then b goes at once
  CAF_REQUIRE_EQUAL(c->bodies.size(), 4u);
  CAF_CHECK_EQUAL(c->bodies[2], "a");
  CAF_CHECK_EQUAL(c->bodies[3], "b");
  auto failures = ctx->metrics.webhook_failures.load();
  CAF_CHECK_EQUAL(failures, 2u);
  auto dropped = ctx->metrics.webhook_dropped.load();
  CAF_CHECK_EQUAL(dropped, 0u);
}

CAF_TEST(drops an event after max_attempts and counts it) {
  start();
  c->script = {false, false, false};
  post("doomed");
  post("next");
  advance(100);
  advance(200);
  // three attempts spent: dropped, then a wait before the next
  advance(400);
  CAF_REQUIRE_EQUAL(c->bodies.size(), 4u);
  CAF_CHECK_EQUAL(c->bodies[3], "next");
  auto dropped = ctx->metrics.webhook_dropped.load();
  CAF_CHECK_EQUAL(dropped, 1u);
}

CAF_TEST(consecutive failures open the breaker : no posts until open_ms) {
  ctx->settings.chat_events.webhook_failure_threshold = 2;
  ctx->settings.chat_events.webhook_max_attempts = 10;
  start();
  c->script = {false, false};
  post("x");
  advance(100); // second failure: the breaker opens
  CAF_REQUIRE_EQUAL(c->bodies.size(), 2u);
  advance(200); // the backoff ends, but the breaker holds
  advance(300);
  CAF_CHECK_EQUAL(c->bodies.size(), 2u);
  advance(1000); // open_ms over: one trial, which succeeds
  CAF_CHECK_EQUAL(c->bodies.size(), 3u);
  post("y");
  CAF_CHECK_EQUAL(c->bodies.size(), 4u);
}

CAF_TEST(a full queue drops the oldest waiting event) {
  start();
  c->script = {false};
  post("1"); // failed, waiting for its retry
  post("2");
  post("3");
  post("4");
  post("5"); // queue_max 4: the oldest, "1", goes
  auto dropped = ctx->metrics.webhook_dropped.load();
  CAF_CHECK_EQUAL(dropped, 1u);
  advance(100);
  std::vector<std::string> expect{"1", "2", "3", "4", "5"};
  CAF_CHECK_EQUAL(c->bodies, expect);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(the envelope holds every field of the seed) {
  node_context ctx;
  ctx.settings.node_name = "n1";
  chat_event ev;
  ev.name = "userDisconnected";
  ev.user_id = "alice";
  ev.client_id = "web";
  ev.session_id = "n1/7";
  ev.payload_json = R"({"reason":"bye","code":1000,"forced":false})";
  auto text = encode_chat_envelope(ctx, ev, 1700000000123456);
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  CAF_REQUIRE(!doc.HasParseError() && doc.IsObject());
  for (auto* key :
       {"id", "name", "namespace", "parentNamespace", "timestamp", "clientId",
        "userId", "traceId", "sessionId", "spanContext"})
    CAF_CHECK(doc.HasMember(key) && doc[key].IsString());
  CAF_CHECK(doc["version"].IsInt());
  CAF_CHECK_EQUAL(std::string{doc["name"].GetString()}, "userDisconnected");
  CAF_CHECK_EQUAL(std::string{doc["timestamp"].GetString()},
                  "2023-11-14T22:13:20.123456Z");
  CAF_CHECK_EQUAL(std::string{doc["namespace"].GetString()}, "herald.chat");
  auto trace = std::string{doc["traceId"].GetString()};
  CAF_CHECK_EQUAL(trace.size(), 32u);
  auto span = std::string{doc["spanContext"].GetString()};
  CAF_CHECK_EQUAL(span.substr(0, 36), "00-" + trace + "-");
  auto& p = doc["payload"]["userDisconnected"];
  CAF_CHECK_EQUAL(p["code"].GetInt(), 1000);
  CAF_CHECK_EQUAL(p["forced"].GetBool(), false);
  // A payload that is not an object is carried as {}.
  ev.payload_json = "[1";
  ev.trace_id = "abc";
  auto bad = encode_chat_envelope(ctx, ev, 0);
  rapidjson::Document d2;
  d2.Parse(bad.c_str());
  CAF_REQUIRE(!d2.HasParseError());
  CAF_CHECK(d2["payload"]["userDisconnected"].IsObject());
  CAF_CHECK_EQUAL(d2["payload"]["userDisconnected"].MemberCount(), 0u);
  CAF_CHECK_EQUAL(std::string{d2["traceId"].GetString()}, "abc");
}
