#pragma once

// The Herald channel plugin SDK (docs/plugins.md): the one header a channel
// plugin includes. It holds the descriptor a plugin exports, the typed
// handles a channel may use (its clients, the node's topics, the store, a
// service's breaker) and nothing else of the node.
//
// A plugin is a shared library (CMake: add_library(x MODULE ...), linked to
// Herald::sdk) exporting one function:
//
//     extern "C" const herald::sdk::descriptor* herald_plugin_descriptor();
//
// The node checks `abi_version` and `caf_version` before it reads anything
// else of the descriptor, parses the plugin's configuration section once,
// then spawns one channel actor per endpoint under the channels' supervisor,
// restarting it when it crashes.

#include "herald/sdk/identity.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/config.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::sdk {

/// Bumped whenever anything in this header changes shape. The node refuses
/// a plugin built against another version.
inline constexpr uint32_t abi_version = 2;

/// The name of the function a plugin exports.
inline constexpr const char* entry_point = "herald_plugin_descriptor";

// -- atoms (CAF 0.17: the same name is the same type everywhere) ------------

using open_atom = caf::atom_constant<caf::atom("open")>;
using frame_atom = caf::atom_constant<caf::atom("frame")>;
using closed_atom = caf::atom_constant<caf::atom("closed")>;
using push_atom = caf::atom_constant<caf::atom("push")>;
using event_atom = caf::atom_constant<caf::atom("event")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
using breaker_atom = caf::atom_constant<caf::atom("breaker")>;
using put_atom = caf::atom_constant<caf::atom("put")>;
using add_atom = caf::atom_constant<caf::atom("add")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using flag_atom = caf::atom_constant<caf::atom("flag")>;
using chat_atom = caf::atom_constant<caf::atom("chatevent")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using services_atom = caf::atom_constant<caf::atom("services")>;

// -- clients ----------------------------------------------------------------

/// A frame for a client's socket: encoded once (by `host::make_frame`) and
/// shared by every client it goes to; never copied per client.
using frame = std::shared_ptr<const std::string>;

/// A client's session as its channel sees it: it takes frames to write.
using client_actor = caf::typed_actor<caf::reacts_to<push_atom, frame>>;

/// A client of a channel: a WebSocket session on one of its endpoints.
struct client {
  uint64_t id = 0; ///< unique on this node
  /// The verified claims; anonymous on a public endpoint without a token.
  std::shared_ptr<const identity> who;
  client_actor handle;
  /// This session's id, unique in the cluster (`<node>/<n>`): the
  /// `sessionId` of the chat events it causes.
  std::string session_id;
};

/// What the node sends every channel: a client opened, sent a text frame,
/// or closed. Frames have passed the client's rate budget already.
using channel_actor =
    caf::typed_actor<caf::reacts_to<open_atom, client>,
                     caf::reacts_to<frame_atom, uint64_t, std::string>,
                     caf::reacts_to<closed_atom, uint64_t>>;

// -- topics -----------------------------------------------------------------

/// A published event on a topic a channel subscribed to (PROTOCOL §1).
struct event {
  std::string id;    ///< unique per publish: use it to make writes idempotent
  std::string topic; ///< the concrete topic
  std::string type;  ///< the event type
  int64_t timestamp_us = 0;
  std::string data_json; ///< the payload object, compact JSON
  std::string user_id;   ///< the publish's target user, or empty
};

using event_ptr = std::shared_ptr<const event>;

/// Takes the events of the patterns it subscribed to.
using listener_actor = caf::typed_actor<caf::reacts_to<event_atom, event_ptr>>;

/// A channel that listens to topics: the usual shape of a plugin's actor.
using listening_channel_actor = channel_actor::extend_with<listener_actor>;

/// A service's circuit breaker as the health board shows it.
struct breaker_view {
  std::string service;
  std::string layer;
  std::string state; ///< closed, open, half_open
  bool given_up = false;
};

/// A chat event (seeds/chat-events-asyncapi.md, docs/chat-events.md): the
/// node wraps `payload_json` in the seed's envelope, publishes it on
/// `system:chat:event:<name>` and posts it to the webhook.
struct chat_event {
  std::string name;         ///< userChatRateLimited, personalChatSent, ...
  std::string user_id;      ///< the user the event is about
  std::string client_id;    ///< the client's `client_id` claim, or empty
  std::string session_id;   ///< client::session_id
  std::string trace_id;     ///< empty: the node makes one
  std::string span_context; ///< empty: the node makes one
  std::string payload_json = "{}"; ///< the event's own object
};

/// A call to a configured upstream service (`services`), made by the node
/// through that service's circuit breaker.
struct call_request {
  std::string method = "POST";
  std::string path = "/";
  std::string body_json; ///< sent as application/json when not empty
  uint32_t timeout_ms = 5000;
};

/// How a call ended. `outcome`: `ok` (2xx), `failed` (another status),
/// `timeout`, `refused` (no connection), `breaker_open` (not sent), or
/// `unknown_service`. A failure or timeout counts against the breaker.
struct call_result {
  std::string outcome;
  uint16_t status = 0;
  std::string body; ///< the response body, up to 64 KiB
  uint32_t latency_ms = 0;
  std::string detail; ///< a human-readable reason
};

/// The node as a channel sees it.
using node_actor = caf::typed_actor<
    // Publishes `data_json` (a JSON object) as `type` on `topic`, as the
    // publish API would: ordered by the topic's owner, seen on every node.
    // Answers the event's id; an invalid topic or payload is an error.
    caf::replies_to<publish_atom, std::string, std::string,
                    std::string>::with<std::string>,
    // Delivers the events of `pattern` (PROTOCOL §2) to `listener` until it
    // unsubscribes or dies. Subscribing twice is once.
    caf::reacts_to<subscribe_atom, std::string, listener_actor>,
    caf::reacts_to<unsubscribe_atom, std::string, listener_actor>,
    // The breaker of a configured service; an error when none is named so.
    caf::replies_to<breaker_atom, std::string>::with<breaker_view>,
    // Every configured upstream service (`services`), sorted by name.
    caf::replies_to<services_atom>::with<std::vector<breaker_view>>,
    // Emits a chat event (fire and forget; counted, never refused).
    caf::reacts_to<chat_atom, chat_event>,
    // Calls a configured service (see call_result); always answers.
    caf::replies_to<call_atom, std::string, call_request>::with<call_result>,
    // This node's figures as a JSON object: node, uptime_s, connections,
    // sse_connections, channel_sessions, subscriptions, topics, publishes,
    // deliveries, drops, rss_bytes, threads, members.
    caf::replies_to<stats_atom>::with<std::string>>;

// -- the store --------------------------------------------------------------

/// One stored record. Records live in collections (name them after your
/// plugin) and are unique by key within one. `owner`, `group` and `flag`
/// are what queries select on (a user, a category, read or not).
struct record {
  std::string key;
  std::string owner;
  std::string group;
  bool flag = false;
  std::string value_json; ///< any JSON value
  uint64_t seq = 0;       ///< assigned by the store, grows with each write
  int64_t created_us = 0; ///< assigned by the store on first write
};

/// Selects records of a collection. Empty strings and `flag` none match
/// anything; `before_seq` (0: no bound) pages newest-first.
struct record_query {
  std::string owner;
  std::string group;
  std::optional<bool> flag;
  uint64_t before_seq = 0;
  uint32_t limit = 100; ///< at most 1000
};

/// The node's store: embedded SQLite or PostgreSQL, per the node's
/// configuration. Every call is answered once the write is durable (a
/// client told it succeeded keeps it across a crash); blocking work runs in
/// the store's own actor, never in the caller.
using store_actor = caf::typed_actor<
    // Inserts or replaces `record.key`; answers it as stored.
    caf::replies_to<put_atom, std::string, record>::with<record>,
    // Inserts unless `record.key` exists; answers whether it did.
    caf::replies_to<add_atom, std::string, record>::with<bool>,
    // The record of a key: none or one.
    caf::replies_to<get_atom, std::string,
                    std::string>::with<std::vector<record>>,
    // Newest first.
    caf::replies_to<list_atom, std::string,
                    record_query>::with<std::vector<record>>,
    caf::replies_to<count_atom, std::string, record_query>::with<uint64_t>,
    // Sets `flag` on the records matching the query whose keys are listed
    // (all of them when the list is empty); answers the keys it changed.
    caf::replies_to<flag_atom, std::string, record_query,
                    std::vector<std::string>,
                    bool>::with<std::vector<std::string>>>;

// -- what a channel is given -------------------------------------------------

/// Everything the node gives a channel actor when it spawns one.
struct host {
  std::string endpoint;  ///< the endpoint this actor serves
  std::string node_name; ///< this node's name in the cluster
  /// The channels' supervisor, as the node's actor registry (the control
  /// console) knows it: the parent of the channel actor.
  uint64_t supervisor_id = 0;
  node_actor node;
  store_actor store;
  /// The plugin's parsed configuration: what `descriptor::parse_config`
  /// returned (cast it back with std::static_pointer_cast).
  std::shared_ptr<const void> config;
  /// `{"type":..,"data":<data_json>,"timestamp":..,"id":..}` (PROTOCOL §7)
  /// as a frame; `data_json` must be JSON the caller encoded.
  std::function<frame(std::string_view type, std::string_view data_json,
                      const std::optional<std::string>& id)>
      make_frame;
  /// An error frame (docs/channels.md): `type` as the endpoint names its
  /// errors ("error" unless the seed says otherwise), then a code of
  /// PROTOCOL §4, a message and the refused request's type.
  std::function<frame(std::string_view type, std::string_view code,
                      std::string_view message, std::string_view request_type,
                      const std::optional<std::string>& id)>
      make_error;
  /// Registers an actor (a helper the channel spawned) in the node's actor
  /// registry (the control console) under the channels' supervisor; a map
  /// insert.
  std::function<void(caf::actor self, std::string name)> enroll;
};

/// An endpoint a plugin serves at `/api/v69/ws/<name>`.
struct endpoint_spec {
  std::string name;
  /// false: anyone may connect without a token (a bad token is still
  /// refused with 401).
  bool requires_identity = true;
};

/// What `parse_config` answers: the parsed configuration, or why not.
using config_result = std::variant<std::shared_ptr<const void>, std::string>;

/// What a plugin's entry point returns. Keep it in static storage: the
/// node reads it for as long as it runs.
struct descriptor {
  // Read first, before anything below: a plugin built against another
  // SDK is refused on these two alone.
  uint32_t abi_version = sdk::abi_version;
  uint32_t caf_version = CAF_VERSION;
  std::string name; ///< unique among loaded plugins
  std::vector<endpoint_spec> endpoints;
  /// Run once at load with the plugin's `config` section as JSON text
  /// (`{}` when the configuration gives none). An error stops the node at
  /// start, with the plugin's name and this text.
  std::function<config_result(const std::string& json)> parse_config;
  /// Spawns the channel actor for `h.endpoint`; called again after each
  /// crash. The actor must implement at least `channel_actor`.
  std::function<caf::actor(caf::actor_system& sys, const host& h)> spawn;
};

/// The type of the entry point.
using entry_function = const descriptor* (*)();

} // namespace herald::sdk

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::client)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::event_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::breaker_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::sdk::breaker_view>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::chat_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::call_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::call_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::sdk::record_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<herald::sdk::record>)
