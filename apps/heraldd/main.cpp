// heraldd: one Herald node. Loads the configuration, starts the actor
// system and the root supervisor, opens the public listener, and shuts
// down cleanly on SIGTERM/SIGINT.

#include "actors/chat_events.hpp"
#include "actors/inspector.hpp"
#include "actors/plugins/loader.hpp"
#include "actors/plugins/node_bridge.hpp"
#include "actors/store/store_actor.hpp"
#include "actors/supervisor.hpp"
#include "actors/tree.hpp"
#include "cluster_start.hpp"
#include "config/loader.hpp"
#include "config/tls.hpp"
#include "logging.hpp"
#include "net/prober.hpp"
#include "net/server.hpp"
#include "net/tls_context.hpp"
#include "protocol/jwt.hpp"
#include "protocol/uuid.hpp"
#include "protocol/version.hpp"
#include "startup.hpp"

#include <caf/all.hpp>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace herald;

int main(int argc, char** argv) {
  auto loaded = config::load(std::vector<std::string>(argv + 1, argv + argc),
                             app::herald_environment());
  if (auto* error = std::get_if<std::string>(&loaded)) {
    std::cerr << *error << '\n';
    return 2;
  }
  auto& inv = std::get<config::invocation>(loaded);
  using mode = config::invocation::mode;
  if (inv.what == mode::help) {
    std::cout << config::usage();
    return 0;
  }
  if (inv.what == mode::version) {
    std::cout << "heraldd " << protocol::version << "\n";
    return 0;
  }
  auto verifier = protocol::jwt_verifier::create(inv.cfg.auth.jwt);
  if (auto* error = std::get_if<std::string>(&verifier)) {
    std::cerr << "config: auth.jwt: " << *error << '\n';
    return 2;
  }
  // The TLS listener's keys, and its certificate and key read and checked
  // (docs/tls.md): a bad one stops the node here, --check-config too.
  if (auto error = config::check_tls(inv.cfg); !error.empty()) {
    std::cerr << error << '\n';
    return 2;
  }
  std::shared_ptr<asio::ssl::context> tls_ctx;
  if (inv.cfg.listen.tls.enabled) {
    auto made = net::make_tls_context(inv.cfg.listen.tls);
    if (auto* error = std::get_if<std::string>(&made)) {
      std::cerr << *error << '\n';
      return 2;
    }
    tls_ctx = std::get<std::shared_ptr<asio::ssl::context>>(std::move(made));
  }
  if (inv.what == mode::check) {
    std::cout << "config OK: " << inv.config_file << '\n';
    return 0;
  }
  app::setup_logging(inv.cfg.log);
  auto log = spdlog::get("node");

  auto node = std::make_shared<actors::node_context>();
  node->started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  node->settings = std::move(inv.cfg);
  node->epoch = protocol::make_uuid_v4().substr(0, 8);
  auto& cfg = node->settings;
  for (auto& b : cfg.schemas.bindings) {
    bool data = b.validates == protocol::schema_binding::target::data;
    log->info("schema {} checks the {} of {} {}", b.schema->path(),
              data ? "data" : "envelope", b.topic.empty() ? "events" : "topic",
              b.topic.empty() ? b.event_type : b.topic);
    // docs/schemas.md: an external $ref without a local copy accepts any
    // value; say so once rather than let it pass unnoticed.
    for (auto& uri : b.schema->accepted_any_refs())
      log->info("schema {}: $ref {} has no local copy: it accepts any value",
                b.schema->path(), uri);
  }

  // Channel plugins (docs/plugins.md) load before anything starts: one
  // that cannot be used stops the node here, with its line.
  auto plugins_loaded =
      actors::load_plugins(cfg, actors::builtin_endpoints(cfg));
  if (auto* error = std::get_if<std::string>(&plugins_loaded)) {
    std::cerr << *error << '\n';
    return 2;
  }
  auto plugins = std::get<std::vector<actors::loaded_plugin>>(plugins_loaded);
  for (auto& p : plugins) {
    std::string eps;
    for (auto& e : p.descriptor->endpoints)
      eps += (eps.empty() ? "" : ", ") + e.name;
    log->info("plugin {} loaded from {} (endpoints: {})", p.descriptor->name,
              p.path, eps);
  }

  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.threads.actors));
  caf_cfg.set("scheduler.policy", cfg.threads.scheduler == "stealing"
                                      ? caf::atom("stealing")
                                      : caf::atom("sharing"));
  caf_cfg.set("logger.file-verbosity", caf::atom("quiet"));
  caf_cfg.set("logger.console-verbosity", caf::atom("quiet"));
  app::configure_cluster(caf_cfg, cfg);
  caf::actor_system sys{caf_cfg};

  asio::io_context ioc{static_cast<int>(cfg.threads.io)};
  int exit_code = 0;
  std::atomic<bool> shutting_down{false};
  std::function<void()> begin_shutdown;

  auto supervisor =
      sys.spawn(actors::root_supervisor, node, [&](std::string why) {
        log->critical("{}; stopping the node", why);
        asio::post(ioc, [&] {
          exit_code = 1;
          begin_shutdown();
        });
      });
  actors::router_actor router;
  actors::health_actor health;
  // Start-up only, outside every actor: blocking requests are fine here.
  std::optional<caf::scoped_actor> starter;
  starter.emplace(sys);
  (*starter)
      ->request(supervisor, caf::infinite, protocol::router_atom::value)
      .receive(
          [&](actors::router_actor& r, actors::health_actor& h) {
            router = std::move(r);
            health = std::move(h);
          },
          [&](caf::error& err) {
            log->critical("no router: {}", sys.render(err));
          });
  if (!router)
    return 1;
  // Starts a group of the supervision tree under the root, and returns
  // once the group has started its children: a group supervisor starts
  // them as it initializes, before it answers any request, so its first
  // status answer means every channel endpoint is in the directory (a
  // client connecting as soon as the node listens never finds one
  // missing).
  auto start_group = [&](actors::group_spec spec) {
    actors::group_supervisor_actor group;
    (*starter)
        ->request(supervisor, caf::infinite, protocol::group_atom::value,
                  std::move(spec))
        .receive([&](actors::group_supervisor_actor& g) { group = g; },
                 [&](caf::error& err) {
                   log->critical("supervisor: {}", sys.render(err));
                 });
    if (group)
      (*starter)
          ->request(group, caf::infinite, protocol::status_atom::value)
          .receive([](std::vector<actors::child_row>&) {}, [](caf::error&) {});
  };
  actors::cluster_actor member;
  if (cfg.cluster.enabled) {
    auto started = app::start_cluster(sys, node, router);
    if (auto* error = std::get_if<std::string>(&started)) {
      std::cerr << *error << '\n';
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 2;
    }
    member = std::get<actors::cluster_actor>(std::move(started));
    caf::anon_send(supervisor, protocol::adopt_atom::value,
                   std::string{"cluster member"},
                   caf::actor_cast<caf::actor>(member));
  }

  // Service monitors (docs/monitors.md) under their supervisor: probes
  // run on the socket threads.
  // The prober also makes the node's outbound calls (the chat events
  // webhook, plugins' service calls), so it runs whether or not any
  // service is watched.
  auto prober = net::spawn_prober(sys, ioc);
  // Chat events (docs/chat-events.md): connection events, and what plugins
  // emit, enveloped, published, and posted to the webhook if configured.
  auto chat_events = actors::spawn_chat_events(sys, node, router, prober);
  caf::anon_send(supervisor, protocol::adopt_atom::value,
                 std::string{"chat events"},
                 caf::actor_cast<caf::actor>(chat_events));
  if (!cfg.chat_events.webhook_url.empty())
    log->info("chat events webhook: {}", cfg.chat_events.webhook_url);
  if (!cfg.services.empty()) {
    for (auto& spec : cfg.services)
      log->info("monitoring {} ({}) every {} ms", spec.name, spec.layer,
                spec.interval_ms);
    start_group(actors::monitor_group(node, prober, router, health));
  }
  // What plugins are given: the store (opened now, so a bad one stops the
  // start) and the bridge to the router and the health board. Both
  // escalate: a node whose store actor died cannot keep its promises.
  actors::channel_wiring wiring;
  if (!plugins.empty()) {
    auto store = actors::spawn_store(sys, node);
    if (auto* error = std::get_if<std::string>(&store)) {
      std::cerr << *error << '\n';
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
      return 2;
    }
    wiring.store = std::get<sdk::store_actor>(std::move(store));
    wiring.node = actors::spawn_node_bridge(sys, node, router, health,
                                            chat_events, prober);
    log->info("store: {}", cfg.store.kind == "postgres"
                               ? std::string{"postgres"}
                               : "sqlite " + cfg.store.sqlite_path);
    caf::anon_send(supervisor, protocol::adopt_atom::value,
                   std::string{"store"},
                   caf::actor_cast<caf::actor>(wiring.store));
    caf::anon_send(supervisor, protocol::adopt_atom::value,
                   std::string{"plugin bridge"},
                   caf::actor_cast<caf::actor>(wiring.node));
  }
  // The channel endpoints (docs/channels.md, docs/plugins.md) under theirs.
  auto sources = actors::builtin_channels(node, health);
  for (auto& p : plugins)
    sources.push_back({std::shared_ptr<const sdk::descriptor>(
                           p.descriptor, [](const sdk::descriptor*) {}),
                       p.config, false});
  auto channels = actors::channel_group(node, sources, wiring);
  if (!channels.children.empty())
    start_group(std::move(channels));

  starter.reset();

  // The inspector answers the admin API (docs/console.md); in a cluster it
  // asks the other nodes' inspectors through the member.
  auto inspector = actors::spawn_inspector(sys, node, health, member);

  auto net_ctx = std::make_shared<net::net_context>();
  net_ctx->inspector = inspector;
  net_ctx->node = node;
  net_ctx->router = router;
  net_ctx->chat_events = chat_events;
  net_ctx->system = &sys;
  net_ctx->verifier = std::get<protocol::jwt_verifier>(std::move(verifier));
  net_ctx->gate = app::make_gate(cfg, *log);

  // Signals are caught from here on: one that arrives while the node
  // starts is handled as soon as the I/O loop runs.
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](auto ec, int) {
    if (!ec)
      begin_shutdown();
  });

  auto url_of = [](const asio::ip::tcp::endpoint& endpoint,
                   const char* scheme = "http") {
    auto host = endpoint.address().is_unspecified()
                    ? std::string{"127.0.0.1"}
                    : endpoint.address().to_string();
    return std::string{scheme} + "://" + host + ":"
           + std::to_string(endpoint.port());
  };
  auto stop_actors = [&] {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(inspector, caf::exit_reason::user_shutdown);
  };
  // The admin listener first: its line comes before "listening on", which
  // tells tests and scripts that the node is up.
  std::shared_ptr<net::listener> admin_lst;
  if (cfg.admin.enabled) {
    admin_lst = std::make_shared<net::listener>(ioc, net_ctx, true);
    auto admin_opened = admin_lst->open(cfg.admin.address, cfg.admin.port);
    if (auto* error = std::get_if<std::string>(&admin_opened)) {
      std::cerr << *error << '\n';
      stop_actors();
      return 2;
    }
    auto& admin_at = std::get<asio::ip::tcp::endpoint>(admin_opened);
    node->admin_url = url_of(admin_at);
    // Loopback unless admin.address says otherwise; then say so plainly.
    if (!admin_at.address().is_loopback()) {
      auto text = "admin API listening on " + cfg.admin.address
                  + " (admin.address): NOT loopback, reachable from other "
                    "hosts; every route but the console page needs an admin "
                    "token";
      log->warn("{}", text);
      std::cout << text << std::endl;
    }
  }
  // The plain listener (unless listen.plain is false) and the TLS one
  // (listen.tls.enabled, docs/tls.md), both under the same limits.
  std::shared_ptr<net::listener> lst;
  std::string url;
  if (cfg.listen.plain) {
    lst = std::make_shared<net::listener>(ioc, net_ctx);
    auto opened = lst->open(cfg.listen.address, cfg.listen.port);
    if (auto* error = std::get_if<std::string>(&opened)) {
      std::cerr << *error << '\n';
      stop_actors();
      return 2;
    }
    url = url_of(std::get<asio::ip::tcp::endpoint>(opened));
  }
  std::shared_ptr<net::listener> tls_lst;
  std::string tls_url;
  if (tls_ctx) {
    tls_lst = std::make_shared<net::listener>(ioc, net_ctx, false, tls_ctx);
    auto& address = cfg.listen.tls.address.empty() ? cfg.listen.address
                                                   : cfg.listen.tls.address;
    auto opened = tls_lst->open(address, cfg.listen.tls.port);
    if (auto* error = std::get_if<std::string>(&opened)) {
      std::cerr << *error << '\n';
      stop_actors();
      return 2;
    }
    tls_url = url_of(std::get<asio::ip::tcp::endpoint>(opened), "https");
  }
  node->public_url = url.empty() ? tls_url : url;
  if (admin_lst) {
    admin_lst->run();
    log->info("admin console on {}", node->admin_url);
    std::cout << "admin console on " << node->admin_url << std::endl;
  }
  if (lst)
    lst->run();
  if (tls_lst)
    tls_lst->run();
  net_ctx->ready = true;
  // The TLS line first: the plain one, last, tells tests and scripts that
  // the node is up (a TLS-only node has only the TLS line).
  if (tls_lst) {
    log->info("node {} listening on {} (TLS, {} or later, certificate {})",
              cfg.node_name, tls_url, net::tls_version_name(cfg.listen.tls),
              cfg.listen.tls.cert_file);
    std::cout << "listening on " << tls_url << std::endl;
  }
  if (lst) {
    log->info("node {} listening on {}", cfg.node_name, url);
    std::cout << "listening on " << url << std::endl;
  }
  if (cfg.development)
    app::print_development_banner(cfg, node->public_url, node->admin_url);

  // Shutdown: stop accepting, close every WebSocket with 1001, wait for
  // them up to shutdown.grace_ms, then drop what is left and stop.
  asio::steady_timer drain_timer{ioc};
  auto deadline = std::chrono::steady_clock::time_point{};
  std::function<void()> drain = [&] {
    if (net_ctx->sessions.size() > 0
        && std::chrono::steady_clock::now() < deadline) {
      drain_timer.expires_after(std::chrono::milliseconds(20));
      drain_timer.async_wait([&](auto ec) {
        if (!ec)
          drain();
      });
      return;
    }
    net_ctx->sessions.abort_all();
    asio::post(ioc, [&] { ioc.stop(); });
  };
  begin_shutdown = [&] {
    if (shutting_down.exchange(true))
      return;
    log->info("shutting down");
    net_ctx->ready = false;
    if (lst)
      lst->stop();
    if (tls_lst)
      tls_lst->stop();
    if (admin_lst)
      admin_lst->stop();
    net_ctx->sessions.close_all(1001, "node shutting down");
    deadline = std::chrono::steady_clock::now()
               + std::chrono::milliseconds(cfg.shutdown_grace_ms);
    drain();
  };

  std::vector<std::thread> io_threads;
  for (unsigned i = 1; i < cfg.threads.io; ++i)
    io_threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : io_threads)
    t.join();
  // Run what the last round posted (sessions telling their actors they
  // are gone), then stop the actors.
  ioc.restart();
  ioc.poll();
  caf::anon_send_exit(prober, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(chat_events, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(inspector, caf::exit_reason::user_shutdown);
  sys.registry().erase(actors::inspector_registry_name);
  // The root first: it stops escalating, then takes the tree down (the
  // member's exit, sent after, reaches it after its own).
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  if (wiring.node)
    caf::anon_send_exit(wiring.node, caf::exit_reason::user_shutdown);
  if (wiring.store)
    caf::anon_send_exit(wiring.store, caf::exit_reason::user_shutdown);
  if (member) {
    // A clean leave: the member says goodbye to the others; give the
    // middleman a moment to put it on the wire.
    caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // A watchdog: the process ends within the grace period even if an actor
  // does not.
  std::thread([grace = cfg.shutdown_grace_ms, &exit_code] {
    std::this_thread::sleep_for(std::chrono::milliseconds(grace + 1000));
    std::_Exit(exit_code);
  }).detach();
  sys.await_all_actors_done();
  lst.reset();
  tls_lst.reset();
  admin_lst.reset();
  log->info("stopped");
  spdlog::shutdown();
  return exit_code;
}
