#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace herald::net {

/// The net module's logger ("net"), or the default one before setup.
inline std::shared_ptr<spdlog::logger> log_net() {
  static auto logger = [] {
    auto l = spdlog::get("net");
    return l ? l : spdlog::default_logger();
  }();
  return logger;
}

} // namespace herald::net
