// The node's start-up helpers: which environment variables are the
// node's, the public listener's connection limits with their lines, and
// the development banner (apps/README.md).

#include "startup.hpp"

#include "protocol/jwt.hpp"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <limits>
#include <string_view>

#include <sys/resource.h>

extern char** environ;

namespace herald::app {

namespace {

// Descriptors the node keeps for itself beyond its client connections:
// the listeners, plugins, the store, the cluster, logs, refusals.
constexpr uint64_t descriptor_reserve = 64;

// The open-files limit (RLIMIT_NOFILE, soft), or 0 when unknown.
uint64_t open_files_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
    return 0;
  return lim.rlim_cur;
}

} // namespace

std::map<std::string, std::string> herald_environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text{*entry};
    auto eq = text.find('=');
    if (eq == std::string_view::npos || text.substr(0, 7) != "HERALD_")
      continue;
    env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

// The connection limits the public listener enforces (docs/limits.md),
// with their startup lines.
std::shared_ptr<net::connection_gate> make_gate(const config::settings& cfg,
                                                spdlog::logger& log) {
  auto& lim = cfg.limits;
  auto files = open_files_limit();
  uint64_t total = lim.max_connections;
  std::string why = "limits.max_connections";
  if (total == 0) {
    total = files > descriptor_reserve + 16 ? files - descriptor_reserve : 16;
    if (files == 0)
      total = std::numeric_limits<uint32_t>::max();
    why = "limits.max_connections 0: the open-files limit "
          + (files == 0 ? std::string{"(none)"} : std::to_string(files))
          + " less " + std::to_string(descriptor_reserve);
  } else if (files != 0 && total + descriptor_reserve > files) {
    log.warn("limits.max_connections {} is more than the open-files limit {} "
             "allows (less {} for the node itself): past about {} "
             "connections, accepts fail instead of being answered 503",
             total, files, descriptor_reserve,
             files > descriptor_reserve ? files - descriptor_reserve : 0);
  }
  total = std::min<uint64_t>(total, std::numeric_limits<uint32_t>::max());
  log.info("connections: at most {} ({}), {} per client address; request "
           "head within {} ms, body within {} ms, keep-alive idle {} ms",
           total, why,
           lim.max_connections_per_ip == 0
               ? std::string{"any number"}
               : std::to_string(lim.max_connections_per_ip),
           lim.header_timeout_ms, lim.body_timeout_ms, lim.idle_timeout_ms);
  if (!cfg.listen.allowed_origins.empty()) {
    std::string list;
    for (auto& o : cfg.listen.allowed_origins)
      list += (list.empty() ? "" : ", ") + o;
    log.info("browser streams only from listen.allowed_origins: {}", list);
  }
  return std::make_shared<net::connection_gate>(static_cast<uint32_t>(total),
                                                lim.max_connections_per_ip);
}

void print_development_banner(const config::settings& cfg,
                              const std::string& url,
                              const std::string& admin_url) {
  auto claims = R"({"sub":"dev","customer_id":"c1","roles":["admin"],)"
                R"("tenant_id":"t1","exp":)"
                + std::to_string(std::time(nullptr) + 24 * 3600) + "}";
  auto token = protocol::sign_hs256(claims, cfg.auth.jwt.hs256_secret);
  std::cout
      << "\nHerald is running on its built-in DEVELOPMENT configuration (no "
         "--config given).\nNever use it in production: its secret and API "
         "key are public.\n\n"
      << "  open this page:   " << url << "/?token=" << token << "\n"
      << "  then subscribe:   customer_id:c1:call:*\n"
      << "  publish API key:  " << cfg.auth.api_keys.front() << "\n"
      << "  publish an event: examples/publish.sh customer_id:c1:call:x1 "
         "call.status '{\"status\":\"answered\"}'\n"
      << "  mint a token:     herald-ctl token --sub u1 --customer-id c1 "
         "--roles admin\n"
      << "  node health:      " << url << "/health?token=" << token << "\n"
      << "  admin console:    "
      << (admin_url.empty() ? std::string{"(admin.enabled is false)"}
                            : admin_url + "/?token=" + token)
      << "\n  control console:  herald-ctl   (or herald-ctl actors, "
         "herald-ctl top)\n\n"
      << std::flush;
}

} // namespace herald::app
