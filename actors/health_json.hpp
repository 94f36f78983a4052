#pragma once

// The JSON the health board and its channels send (docs/channels.md):
// each record encoded once, then shared by every frame that carries it.

#include "actors/health_types.hpp"

#include <string>
#include <vector>

namespace herald::actors {

/// `{"service":..,"layer":..,"kind":..,"state":..,"given_up":..,
/// "reason":..,"changed_at":..,"last_probe":{..}|null,"probes":..,
/// "failures":..,"times_opened":..,"next_attempt_at":..|null}`
std::string encode_service(const service_status& s);

/// `{"layer":..,"status":..,"services":..,"closed":..,"half_open":..,
/// "open":..}`
std::string encode_layer(const layer_summary& l);

/// `{"on":..,"message":..,"expected_end":..|null,"set_by":..,"since":..}`
std::string encode_maintenance(const maintenance_state& m);

/// `{"seq":..,"at":..,"kind":..,"source":..,"message":..}`
std::string encode_error_entry(const error_entry& e);

/// `{"services":[..],"layers":[..]}`
std::string encode_services_state(const std::vector<service_status>& services,
                                  const std::vector<layer_summary>& layers);

/// `[..]` of encode_error_entry, in the given order.
std::string encode_error_list(const std::vector<error_entry>& errors);

/// YYYY-MM-DDTHH:MM:SS, an optional fraction, then Z: the form of a
/// maintenance window's expected end.
bool iso8601_utc(const std::string& s);

/// The layers of `services`, in name order, with their status.
std::vector<layer_summary>
summarize_layers(const std::vector<service_status>& services);

} // namespace herald::actors
