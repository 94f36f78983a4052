#include "config/schema_builders.hpp"

#include "protocol/http_url.hpp"

namespace herald::config::detail {

namespace {

std::string check_webhook_url(const std::string& s) {
  if (s.empty())
    return {};
  std::string why;
  if (!protocol::parse_http_url(s, why))
    return why;
  return {};
}

} // namespace

void add_chat_event_keys(std::vector<key_spec>& t) {
  t.push_back(boolean(
      "chat_events.connections",
      [](settings& s) -> field { return &s.chat_events.connections; },
      "Emit userConnected and userDisconnected for every WebSocket and SSE "
      "connection (docs/chat-events.md) on system:chat:event:<name>."));
  t.push_back(str(
      "chat_events.namespace",
      [](settings& s) -> field { return &s.chat_events.event_namespace; },
      "The `namespace` of every chat event's envelope."));
  t.push_back(str(
      "chat_events.parent_namespace",
      [](settings& s) -> field { return &s.chat_events.parent_namespace; },
      "The `parentNamespace` of every chat event's envelope."));
  t.push_back(str(
      "chat_events.webhook.url",
      [](settings& s) -> field { return &s.chat_events.webhook_url; },
      "POST every chat event this node emits to this URL "
      "(http://host:port/path, JSON body: the envelope), with retries and "
      "its own circuit breaker. Empty: no webhook.",
      check_webhook_url));
  t.push_back(integer(
      "chat_events.webhook.timeout_ms",
      [](settings& s) -> field { return &s.chat_events.webhook_timeout_ms; },
      50, 60000, "One attempt's bound: connect, write and read together."));
  t.push_back(integer(
      "chat_events.webhook.max_attempts",
      [](settings& s) -> field { return &s.chat_events.webhook_max_attempts; },
      1, 100, "Attempts per event before it is dropped (and counted)."));
  t.push_back(integer(
      "chat_events.webhook.backoff_ms",
      [](settings& s) -> field { return &s.chat_events.webhook_backoff_ms; }, 1,
      60000,
      "The wait after a failed attempt, doubled per attempt up to 64x."));
  t.push_back(integer(
      "chat_events.webhook.queue_max",
      [](settings& s) -> field { return &s.chat_events.webhook_queue_max; }, 1,
      10000000,
      "Events held while the webhook is slow or down; past it the oldest "
      "is dropped (and counted)."));
  t.push_back(integer(
      "chat_events.webhook.failure_threshold",
      [](settings& s) -> field {
        return &s.chat_events.webhook_failure_threshold;
      },
      1, 1000, "Consecutive failures that open the webhook's breaker."));
  t.push_back(integer(
      "chat_events.webhook.open_ms",
      [](settings& s) -> field { return &s.chat_events.webhook_open_ms; }, 10,
      3600000, "How long the open breaker holds posts back before one trial."));
}

} // namespace herald::config::detail
