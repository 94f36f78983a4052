// The market plugin (docs/endpoints.md): /api/v69/ws/market-data and
// /api/v69/ws/token-data, public. Clients hold symbols; backends publish
// prices, volumes, sentiment and token metadata on
//   market:price:<SYMBOL>  market:volume:<SYMBOL>
//   market:sentiment:<SYMBOL>  token:update:<SYMBOL>
// and each event reaches the clients holding its symbol as MARKET_PRICE,
// MARKET_VOLUME, MARKET_SENTIMENT or token_update, its frame made once.

#include "../common/plugin_kit.hpp"

#include <caf/all.hpp>

#include <set>

namespace herald::plugins::market {

namespace {

struct market_config {
  uint32_t max_symbols = 100; ///< per client
};

sdk::config_result parse_config(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::string{"must be a JSON object"};
  auto cfg = std::make_shared<market_config>();
  for (auto& m : doc.GetObject()) {
    std::string key = m.name.GetString();
    if (key == "max_symbols") {
      if (!m.value.IsUint() || m.value.GetUint() < 1
          || m.value.GetUint() > 10000)
        return std::string{"max_symbols: must be an integer 1..10000"};
      cfg->max_symbols = m.value.GetUint();
    } else {
      return "unknown key '" + key + "' (max_symbols)";
    }
  }
  return std::shared_ptr<const void>{std::move(cfg)};
}

// The topics of one symbol.
std::vector<std::string> patterns_of(const std::string& symbol) {
  return {"market:*:" + symbol, "token:update:" + symbol};
}

struct market_state {
  static inline const char* name = "herald.plugin.market";
  std::optional<client_table> clients;
  market_config cfg;
  std::map<uint64_t, std::set<std::string>> held;    ///< by client
  std::map<std::string, std::set<uint64_t>> holders; ///< by symbol
  /// The last frame of each kind per held symbol, for a new holder.
  std::map<std::string, std::map<std::string, sdk::frame>> last;
};

using self_ptr = sdk::listening_channel_actor::stateful_pointer<market_state>;

constexpr std::string_view error_type = "ERROR"; // the seed's name

void release(self_ptr self, uint64_t id, const std::string& symbol) {
  auto& st = self->state;
  auto it = st.holders.find(symbol);
  if (it == st.holders.end())
    return;
  it->second.erase(id);
  if (!it->second.empty())
    return;
  st.holders.erase(it);
  st.last.erase(symbol);
  for (auto& p : patterns_of(symbol))
    self->send(st.clients->host().node, sdk::unsubscribe_atom::value, p,
               sdk::listener_actor{self});
}

// Reads `symbols`: a non-empty array of valid symbols, or refuses.
std::optional<std::vector<std::string>>
read_symbols(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto* v = req.field("symbols");
  auto fail = [&](std::string_view code, const std::string& why) {
    st.clients->refuse(self, c, error_type, code, why, req.type, req.id);
    return std::nullopt;
  };
  if (v == nullptr || !v->IsArray() || v->Empty())
    return fail(codes::invalid_message,
                "`symbols` must be a non-empty array of strings");
  std::vector<std::string> out;
  for (auto& s : v->GetArray()) {
    if (!s.IsString())
      return fail(codes::invalid_message, "`symbols` holds a non-string");
    std::string sym{s.GetString(), s.GetStringLength()};
    if (!valid_name(sym, 64) || sym.find('.') != std::string::npos)
      return fail(codes::invalid_message,
                  "bad symbol '" + sym.substr(0, 80)
                      + "': 1 to 64 characters of [A-Za-z0-9_-]");
    out.push_back(std::move(sym));
  }
  return out;
}

std::string held_json(const std::set<std::string>& held,
                      const std::vector<std::string>& changed) {
  std::vector<std::string> h, c;
  for (auto& s : held)
    h.push_back(json_string(s));
  for (auto& s : changed)
    c.push_back(json_string(s));
  return "{\"symbols\":" + json_array(h) + ",\"changed\":" + json_array(c)
         + "}";
}

void on_subscribe(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto symbols = read_symbols(self, c, req);
  if (!symbols)
    return;
  auto& mine = st.held[c.id];
  std::set<std::string> fresh;
  for (auto& s : *symbols)
    if (!mine.count(s))
      fresh.insert(s);
  if (mine.size() + fresh.size() > st.cfg.max_symbols) {
    st.clients->refuse(self, c, error_type, codes::limit_exceeded,
                       "too many symbols: at most "
                           + std::to_string(st.cfg.max_symbols)
                           + " per connection",
                       req.type, req.id);
    return;
  }
  std::vector<std::string> added(fresh.begin(), fresh.end());
  for (auto& s : added) {
    mine.insert(s);
    auto& h = st.holders[s];
    if (h.empty())
      for (auto& p : patterns_of(s))
        self->send(st.clients->host().node, sdk::subscribe_atom::value, p,
                   sdk::listener_actor{self});
    h.insert(c.id);
  }
  st.clients->answer(self, c, "SUBSCRIBED", held_json(mine, added), req.id);
  // What is known already, so a new holder need not wait for a change.
  for (auto& s : added)
    if (auto it = st.last.find(s); it != st.last.end())
      for (auto& [kind, f] : it->second)
        st.clients->push(self, c, f);
}

void on_unsubscribe(self_ptr self, const sdk::client& c, const request& req) {
  auto& st = self->state;
  auto symbols = read_symbols(self, c, req);
  if (!symbols)
    return;
  auto& mine = st.held[c.id];
  std::vector<std::string> removed;
  for (auto& s : *symbols)
    if (mine.erase(s)) {
      removed.push_back(s);
      release(self, c.id, s);
    }
  st.clients->answer(self, c, "UNSUBSCRIBED", held_json(mine, removed), req.id);
}

// market:<kind>:<SYMBOL> or token:update:<SYMBOL> to the frame type.
std::optional<std::pair<std::string, std::string>>
classify(const std::string& topic) {
  auto a = topic.find(':');
  auto b = topic.find(':', a + 1);
  if (a == std::string::npos || b == std::string::npos)
    return std::nullopt;
  auto scope = topic.substr(0, a);
  auto kind = topic.substr(a + 1, b - a - 1);
  auto symbol = topic.substr(b + 1);
  if (scope == "token" && kind == "update")
    return std::make_pair(std::string{"token_update"}, symbol);
  if (scope != "market")
    return std::nullopt;
  if (kind == "price")
    return std::make_pair(std::string{"MARKET_PRICE"}, symbol);
  if (kind == "volume")
    return std::make_pair(std::string{"MARKET_VOLUME"}, symbol);
  if (kind == "sentiment")
    return std::make_pair(std::string{"MARKET_SENTIMENT"}, symbol);
  return std::nullopt;
}

void on_event(self_ptr self, const sdk::event& ev) {
  auto& st = self->state;
  auto kind = classify(ev.topic);
  if (!kind)
    return;
  auto& [type, symbol] = *kind;
  auto it = st.holders.find(symbol);
  if (it == st.holders.end())
    return;
  // The payload with `symbol` set: parsed and written once per event.
  rapidjson::Document doc;
  doc.Parse(ev.data_json.data(), ev.data_json.size());
  if (doc.HasParseError() || !doc.IsObject())
    doc.SetObject();
  doc.RemoveMember("symbol");
  doc.AddMember(
      "symbol",
      rapidjson::Value{symbol.c_str(),
                       static_cast<rapidjson::SizeType>(symbol.size()),
                       doc.GetAllocator()},
      doc.GetAllocator());
  auto f = st.clients->host().make_frame(type, to_json(doc), std::nullopt);
  st.last[symbol][type] = f;
  for (auto id : it->second)
    if (auto* c = st.clients->find(id))
      st.clients->push(self, *c, f);
}

sdk::listening_channel_actor::behavior_type channel(self_ptr self,
                                                    sdk::host h) {
  auto& st = self->state;
  if (h.config)
    st.cfg = *std::static_pointer_cast<const market_config>(h.config);
  st.clients.emplace(std::move(h));
  return {
      [=](sdk::open_atom, sdk::client& c) {
        self->state.clients->add(std::move(c));
      },
      [=](sdk::frame_atom, uint64_t id, const std::string& text) {
        auto& st = self->state;
        auto* c = st.clients->find(id);
        if (c == nullptr)
          return;
        std::string why;
        auto req = parse_request(text, why);
        if (!req)
          return st.clients->refuse(self, *c, error_type,
                                    codes::invalid_message, why, "", {});
        if (req->type == "SUBSCRIBE_SYMBOLS")
          on_subscribe(self, *c, *req);
        else if (req->type == "UNSUBSCRIBE_SYMBOLS")
          on_unsubscribe(self, *c, *req);
        else
          st.clients->refuse(self, *c, error_type, codes::invalid_message,
                             "unknown message type '" + req->type
                                 + "' (SUBSCRIBE_SYMBOLS, "
                                   "UNSUBSCRIBE_SYMBOLS)",
                             req->type, req->id);
      },
      [=](sdk::closed_atom, uint64_t id) {
        auto& st = self->state;
        auto it = st.held.find(id);
        if (it != st.held.end()) {
          for (auto& s : it->second)
            release(self, id, s);
          st.held.erase(it);
        }
        st.clients->erase(id);
      },
      [=](sdk::event_atom, const sdk::event_ptr& ev) { on_event(self, *ev); },
  };
}

sdk::descriptor make_descriptor() {
  sdk::descriptor d;
  d.name = "market";
  d.endpoints = {{"market-data", false}, {"token-data", false}};
  d.parse_config = parse_config;
  d.spawn = [](caf::actor_system& sys, const sdk::host& h) {
    return caf::actor_cast<caf::actor>(sys.spawn(channel, h));
  };
  return d;
}

} // namespace

} // namespace herald::plugins::market

extern "C" const herald::sdk::descriptor* herald_plugin_descriptor() {
  static const herald::sdk::descriptor d =
      herald::plugins::market::make_descriptor();
  return &d;
}
