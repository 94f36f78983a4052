// A channel plugin in one file: /api/v69/ws/dice. A client sends
// {"type":"roll","sides":6}; every client on the node sees the result as
// `rolled`, and it is published on the topic `dice:rolls` for anything
// else that listens (a /ws client, another node's dice channel).

#include <herald/sdk.hpp>

#include <caf/all.hpp>

#include <map>
#include <random>
#include <string>

namespace {

using namespace herald;

struct dice_config {
  int max_sides = 100;
};

struct dice_state {
  static inline const char* name = "dice";
  sdk::host host;
  dice_config cfg;
  std::map<uint64_t, sdk::client> clients;
  std::mt19937 rng{std::random_device{}()};
};

using self_ptr = sdk::listening_channel_actor::stateful_pointer<dice_state>;

// Reads {"type":"roll","sides":N} without a JSON library, to keep the
// example short; a real plugin would use RapidJSON.
int sides_of(const std::string& text) {
  auto at = text.find("\"sides\":");
  return at == std::string::npos ? 6 : std::atoi(text.c_str() + at + 8);
}

sdk::listening_channel_actor::behavior_type dice(self_ptr self, sdk::host h) {
  self->state.cfg = *std::static_pointer_cast<const dice_config>(h.config);
  // Rolls from any node come back as events: the one place they are
  // pushed from.
  self->send(h.node, sdk::subscribe_atom::value, std::string{"dice:rolls"},
             sdk::listener_actor{self});
  self->state.host = std::move(h);
  return {
      [=](sdk::open_atom, sdk::client& c) {
        auto id = c.id;
        self->state.clients.emplace(id, std::move(c));
      },
      [=](sdk::frame_atom, uint64_t id, const std::string& text) {
        auto& st = self->state;
        auto it = st.clients.find(id);
        if (it == st.clients.end())
          return;
        auto sides = sides_of(text);
        if (text.find("\"roll\"") == std::string::npos || sides < 2
            || sides > st.cfg.max_sides) {
          self->send(it->second.handle, sdk::push_atom::value,
                     st.host.make_error("error", "INVALID_MESSAGE",
                                        "send {\"type\":\"roll\",\"sides\":2.."
                                            + std::to_string(st.cfg.max_sides)
                                            + "}",
                                        "roll", std::nullopt));
          return;
        }
        auto value = std::uniform_int_distribution<int>{1, sides}(st.rng);
        auto who = it->second.who->anonymous() ? std::string{"someone"}
                                               : it->second.who->sub;
        caf::anon_send(st.host.node, sdk::publish_atom::value,
                       std::string{"dice:rolls"}, std::string{"dice.rolled"},
                       "{\"by\":\"" + who
                           + "\",\"sides\":" + std::to_string(sides)
                           + ",\"value\":" + std::to_string(value) + "}");
      },
      [=](sdk::closed_atom, uint64_t id) { self->state.clients.erase(id); },
      [=](sdk::event_atom, const sdk::event_ptr& ev) {
        // One frame, shared by every client.
        auto f =
            self->state.host.make_frame("rolled", ev->data_json, std::nullopt);
        for (auto& [id, c] : self->state.clients)
          self->send(c.handle, sdk::push_atom::value, f);
      },
  };
}

sdk::config_result parse_config(const std::string& json) {
  auto cfg = std::make_shared<dice_config>();
  auto at = json.find("\"max_sides\":");
  if (at != std::string::npos) {
    cfg->max_sides = std::atoi(json.c_str() + at + 12);
    if (cfg->max_sides < 2 || cfg->max_sides > 1000)
      return std::string{"max_sides: must be an integer 2..1000"};
  }
  return std::shared_ptr<const void>{std::move(cfg)};
}

sdk::descriptor describe() {
  sdk::descriptor d;
  d.name = "dice";
  d.endpoints = {{"dice", false}}; // public: no token needed
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(dice, h));
  };
  return d;
}

} // namespace

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d = describe();
  return &d;
}
