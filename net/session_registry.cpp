#include "net/net_context.hpp"

#include <caf/all.hpp>

#include <vector>

namespace herald::net {

void session_registry::add(const std::shared_ptr<live_session>& session) {
  std::lock_guard<std::mutex> guard{mutex_};
  sessions_.emplace(session.get(), session);
}

void session_registry::remove(const live_session* session) {
  std::lock_guard<std::mutex> guard{mutex_};
  sessions_.erase(session);
}

std::size_t session_registry::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return sessions_.size();
}

namespace {

template <class Map>
std::vector<std::shared_ptr<live_session>> lock_all(std::mutex& mutex,
                                                    const Map& sessions) {
  std::vector<std::shared_ptr<live_session>> live;
  std::lock_guard<std::mutex> guard{mutex};
  for (auto& entry : sessions)
    if (auto session = entry.second.lock())
      live.push_back(std::move(session));
  return live;
}

} // namespace

void session_registry::close_all(uint16_t code, const std::string& reason) {
  for (auto& session : lock_all(mutex_, sessions_))
    session->shutdown_close(code, reason);
}

void session_registry::abort_all() {
  for (auto& session : lock_all(mutex_, sessions_))
    session->abort();
}

} // namespace herald::net
