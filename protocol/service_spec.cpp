#include "protocol/service_spec.hpp"

#include <rapidjson/document.h>

#include <cctype>
#include <charconv>
#include <set>

namespace herald::protocol {

namespace {

bool name_ok(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.'
        && c != '-')
      return false;
  return true;
}

bool parse_port(std::string_view digits, uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0
      || value > 65535)
    return false;
  port = static_cast<uint16_t>(value);
  return true;
}

bool parse_host_port(std::string_view text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return false;
  auto h = text.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  for (char c : h)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-'
        && c != ':' && c != '_')
      return false;
  host.assign(h);
  return parse_port(text.substr(colon + 1), port);
}

using value = rapidjson::Value;

std::string uint_member(const value& v, const std::string& at, uint32_t min,
                        uint32_t max, uint32_t& out) {
  if (!v.IsUint() || v.GetUint() < min || v.GetUint() > max)
    return at + ": must be an integer in " + std::to_string(min) + ".."
           + std::to_string(max);
  out = v.GetUint();
  return {};
}

std::string parse_probe(const value& v, const std::string& at,
                        probe_spec& probe) {
  if (!v.IsObject())
    return at + ": must be an object with \"http\" or \"tcp\"";
  bool seen = false;
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    std::string name{m->name.GetString(), m->name.GetStringLength()};
    auto& x = m->value;
    auto here = at + "." + name;
    if (name == "http" || name == "tcp") {
      if (seen)
        return at + ": give one of \"http\" and \"tcp\"";
      seen = true;
      if (!x.IsString())
        return here + ": must be a string";
      std::string_view text{x.GetString(), x.GetStringLength()};
      if (name == "http") {
        probe.how = probe_spec::kind::http;
        if (!parse_http_url(text, probe.host, probe.port, probe.path))
          return here + ": must be http://host:port/path";
      } else {
        probe.how = probe_spec::kind::tcp;
        if (!parse_host_port(text, probe.host, probe.port))
          return here + ": must be host:port";
      }
    } else if (name == "expect_status") {
      uint32_t status = 0;
      if (auto err = uint_member(x, here, 100, 599, status); !err.empty())
        return err;
      probe.expect_status = static_cast<uint16_t>(status);
    } else if (name == "timeout_ms") {
      if (auto err = uint_member(x, here, 1, 600000, probe.timeout_ms);
          !err.empty())
        return err;
    } else {
      return at + ": unknown member \"" + name
             + "\" (http, tcp, expect_status, timeout_ms)";
    }
  }
  if (!seen)
    return at + ": needs \"http\" or \"tcp\"";
  return {};
}

std::string parse_breaker(const value& v, const std::string& at,
                          breaker_settings& b) {
  if (!v.IsObject())
    return at + ": must be an object";
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    std::string name{m->name.GetString(), m->name.GetStringLength()};
    auto& x = m->value;
    auto here = at + "." + name;
    std::string err;
    if (name == "trip") {
      std::string_view t =
          x.IsString() ? std::string_view{x.GetString(), x.GetStringLength()}
                       : std::string_view{};
      if (t == "consecutive")
        b.trip = breaker_settings::trip_rule::consecutive;
      else if (t == "ratio")
        b.trip = breaker_settings::trip_rule::ratio;
      else
        return here + ": must be \"consecutive\" or \"ratio\"";
    } else if (name == "failure_ratio") {
      if (!x.IsNumber() || x.GetDouble() <= 0 || x.GetDouble() > 1)
        return here + ": must be a number in (0, 1]";
      b.failure_ratio = x.GetDouble();
    } else if (name == "failure_threshold") {
      err = uint_member(x, here, 1, 1000000, b.failure_threshold);
    } else if (name == "window") {
      err = uint_member(x, here, 1, 100000, b.window);
    } else if (name == "min_results") {
      err = uint_member(x, here, 1, 100000, b.min_results);
    } else if (name == "open_ms") {
      err = uint_member(x, here, 1, 86400000, b.open_ms);
    } else if (name == "half_open_trials") {
      err = uint_member(x, here, 1, 1000, b.half_open_trials);
    } else if (name == "close_after") {
      err = uint_member(x, here, 1, 1000, b.close_after);
    } else {
      return at + ": unknown member \"" + name
             + "\" (trip, failure_threshold, failure_ratio, window, "
               "min_results, open_ms, half_open_trials, close_after)";
    }
    if (!err.empty())
      return err;
  }
  if (auto err = check(b); !err.empty())
    return at + "." + err;
  return {};
}

} // namespace

bool parse_http_url(std::string_view url, std::string& host, uint16_t& port,
                    std::string& path) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme)
    return false;
  url.remove_prefix(scheme.size());
  auto slash = url.find('/');
  auto authority = url.substr(0, slash);
  if (authority.find('@') != std::string_view::npos)
    return false;
  if (!parse_host_port(authority, host, port))
    return false;
  path = slash == std::string_view::npos ? "/" : std::string{url.substr(slash)};
  for (char c : path)
    if (c <= ' ' || c >= 127)
      return false;
  return true;
}

std::string parse_services(std::string_view json,
                           std::vector<service_spec>& out) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray())
    return "must be an array of {\"name\", \"layer\", \"probe\", ...} objects";
  std::vector<service_spec> services;
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    auto at = "[" + std::to_string(i) + "]";
    auto& item = doc[i];
    if (!item.IsObject())
      return at + ": must be an object";
    service_spec s;
    bool has_probe = false;
    for (auto m = item.MemberBegin(); m != item.MemberEnd(); ++m) {
      std::string name{m->name.GetString(), m->name.GetStringLength()};
      auto& v = m->value;
      auto here = at + "." + name;
      std::string err;
      if (name == "name" || name == "layer") {
        if (!v.IsString() || !name_ok({v.GetString(), v.GetStringLength()}))
          return here + ": must be 1 to 64 characters from [A-Za-z0-9_.-]";
        (name == "name" ? s.name : s.layer)
            .assign(v.GetString(), v.GetStringLength());
      } else if (name == "probe") {
        err = parse_probe(v, here, s.probe);
        has_probe = true;
      } else if (name == "interval_ms") {
        err = uint_member(v, here, 10, 86400000, s.interval_ms);
      } else if (name == "breaker") {
        err = parse_breaker(v, here, s.breaker);
      } else {
        return at + ": unknown member \"" + name
               + "\" (name, layer, probe, interval_ms, breaker)";
      }
      if (!err.empty())
        return err;
    }
    if (s.name.empty())
      return at + ".name: is required";
    if (s.layer.empty())
      return at + ".layer: is required";
    if (!has_probe)
      return at + ".probe: is required";
    if (!names.insert(s.name).second)
      return at + ".name: \"" + s.name + "\" is named twice";
    services.push_back(std::move(s));
  }
  out = std::move(services);
  return {};
}

} // namespace herald::protocol
