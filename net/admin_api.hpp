#pragma once

// The admin API (docs/console.md): its own listener, an admin token on
// every route, JSON answers from the node's inspector, and live streams.

#include "net/http_util.hpp"
#include "net/net_context.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace herald::net {

/// Every admin route starts with this.
inline constexpr std::string_view admin_prefix = "/admin/v1/";

/// A JSON route of the admin API, for an admin named `who`: answered
/// through `done`, later, from an actor thread.
void handle_admin(net_context& ctx, const request& req, const std::string& who,
                  std::function<void(response)> done);

/// GET / and /console on the admin listener: the web console page.
response handle_console_page(const request& req);

} // namespace herald::net
