#pragma once

// The upstream services a node watches (issue 6; docs/monitors.md): what
// the `services` configuration key holds, parsed and checked at load.

#include "protocol/breaker.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol {

/// How a service is probed.
struct probe_spec {
  enum class kind { http, tcp };
  kind how = kind::http;
  std::string host;
  uint16_t port = 0;
  std::string path = "/"; ///< http: the GET target
  uint16_t expect_status =
      200; ///< http: the status that counts as up; 0: any 2xx
  uint32_t timeout_ms = 2000;
  // Calls other than probes (a webhook post, a client's service command)
  // reuse the same bounded request: another method, a body, its answer.
  std::string method = "GET";
  std::string body;       ///< sent as application/json when not empty
  bool keep_body = false; ///< answer the response body (up to 64 KiB)
};

/// One upstream service: its name, its layer, its probe and its breaker.
struct service_spec {
  std::string name;  ///< [A-Za-z0-9_.-], 1..64: topic-safe
  std::string layer; ///< same characters: a grouping such as edge, core
  probe_spec probe;
  uint32_t interval_ms = 5000; ///< between probes
  breaker_settings breaker;
};

/// Parses `[{"name":..., "layer":..., "probe":{"http":"http://host:port/path",
/// "expect_status":200} | {"tcp":"host:port"}, "timeout_ms":...,
/// "interval_ms":..., "breaker":{...}}]`; returns the problem with its
/// path (`[1].probe.http: ...`) or empty. Names must be unique.
std::string parse_services(std::string_view json,
                           std::vector<service_spec>& out);

/// Splits `http://host:port/path` (no TLS, no credentials); false when it
/// is not one.
bool parse_http_url(std::string_view url, std::string& host, uint16_t& port,
                    std::string& path);

} // namespace herald::protocol
