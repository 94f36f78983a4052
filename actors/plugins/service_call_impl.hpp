#pragma once

// The template half of service_call.hpp.

#include "protocol/service_spec.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>

namespace herald::actors {

template <class Self>
void call_service(Self* self, const context_ptr& ctx,
                  const health_actor& health, const prober_actor& prober,
                  const std::string& service, sdk::call_request req,
                  caf::typed_response_promise<sdk::call_result> rp) {
  const protocol::service_spec* spec = nullptr;
  for (auto& s : ctx->settings.services)
    if (s.name == service)
      spec = &s;
  if (spec == nullptr || !prober || !health) {
    rp.deliver(
        sdk::call_result{"unknown_service",
                         0,
                         {},
                         0,
                         "no service is configured as '" + service + "'"});
    return;
  }
  protocol::probe_spec call;
  call.how = protocol::probe_spec::kind::http;
  call.host = spec->probe.host;
  call.port = spec->probe.port;
  call.path =
      req.path.empty() || req.path.front() != '/' ? "/" + req.path : req.path;
  call.method = req.method.empty() ? "POST" : req.method;
  call.body = std::move(req.body_json);
  call.keep_body = true;
  call.expect_status = 0;
  call.timeout_ms = std::clamp<uint32_t>(req.timeout_ms, 1, 60000);
  self->request(health, std::chrono::seconds{5}, protocol::call_atom::value,
                service)
      .then(
          [=](bool admitted) mutable {
            if (!admitted) {
              rp.deliver(
                  sdk::call_result{"breaker_open",
                                   0,
                                   {},
                                   0,
                                   "the circuit breaker of '" + service
                                       + "' is open; the call was not sent"});
              return;
            }
            auto bound = std::chrono::milliseconds{call.timeout_ms + 2000};
            self->request(prober, bound, protocol::probe_atom::value, call)
                .then(
                    [=](probe_result& r) mutable {
                      self->send(health, protocol::call_atom::value, service,
                                 !counts_as_failure(r));
                      rp.deliver(to_call_result(r));
                    },
                    [=](caf::error&) mutable {
                      self->send(health, protocol::call_atom::value, service,
                                 false);
                      rp.deliver(sdk::call_result{
                          "timeout", 0, {}, 0, "no answer in time"});
                    });
          },
          [=](caf::error&) mutable {
            rp.deliver(
                sdk::call_result{"unknown_service",
                                 0,
                                 {},
                                 0,
                                 "no service is watched as '" + service + "'"});
          });
}

} // namespace herald::actors
