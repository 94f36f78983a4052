// The ceiling's protocol: hand-rolled HTTP/1.1 (keep-alive, pipelining,
// Content-Length bodies), the WebSocket upgrade and client frames, and the
// publish endpoints of the shared bench contract.

#include "ceiling.hpp"
#include "json_scan.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <cstring>

namespace ceiling {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle))
      return true;
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

struct request {
  std::string_view method, target, version;
  std::string_view upgrade, connection, ws_key;
  std::size_t content_length = 0;
  bool chunked = false;
  bool bad = false;
};

// Parses the head `h` (request line and headers, without the blank line).
void parse_head(std::string_view h, request& r) {
  auto eol = h.find("\r\n");
  std::string_view line = h.substr(0, eol);
  auto s1 = line.find(' ');
  auto s2 = line.rfind(' ');
  if (s1 == std::string_view::npos || s2 == s1) {
    r.bad = true;
    return;
  }
  r.method = line.substr(0, s1);
  r.target = line.substr(s1 + 1, s2 - s1 - 1);
  r.version = line.substr(s2 + 1);
  while (eol != std::string_view::npos) {
    h.remove_prefix(eol + 2);
    eol = h.find("\r\n");
    line = h.substr(0, eol);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(),
                                     r.content_length);
      if (ec != std::errc{} || p != value.data() + value.size())
        r.bad = true;
    } else if (iequals(name, "transfer-encoding")) {
      r.chunked = true;
    } else if (iequals(name, "upgrade")) {
      r.upgrade = value;
    } else if (iequals(name, "connection")) {
      r.connection = value;
    } else if (iequals(name, "sec-websocket-key")) {
      r.ws_key = value;
    }
  }
}

// One reused buffer to compose replies in: no allocation once warm.
std::string& out_buf() {
  static std::string b;
  b.clear();
  return b;
}

void respond(server& s, conn* c, std::string_view status,
             std::string_view body) {
  auto& b = out_buf();
  b += "HTTP/1.1 ";
  b += status;
  b += "\r\nContent-Type: application/json\r\nContent-Length: ";
  char num[24];
  auto [end, ec] = std::to_chars(num, num + sizeof num, body.size());
  (void)ec;
  b.append(num, end);
  b += "\r\n\r\n";
  b += body;
  s.send(c, b);
}

void respond_error(server& s, conn* c, std::string_view status,
                   std::string_view code, std::string_view message) {
  std::string body = "{\"code\":\"";
  body += code;
  body += "\",\"message\":\"";
  body += message;
  body += "\"}";
  respond(s, c, status, body);
}

void upgrade(server& s, conn* c, const request& r) {
  static constexpr char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  auto& b = out_buf();
  b.assign(r.ws_key);
  b += guid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dn = 0;
  EVP_Digest(b.data(), b.size(), digest, &dn, EVP_sha1(), nullptr);
  unsigned char accept[EVP_MAX_MD_SIZE * 2];
  int n = EVP_EncodeBlock(accept, digest, static_cast<int>(dn));
  b.clear();
  b += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
  b.append(reinterpret_cast<char*>(accept), static_cast<std::size_t>(n));
  b += "\r\n\r\n";
  s.send(c, b);
  c->ws = true;
}

// The event as the contract wants it; false when the body does not fit.
struct publish_req {
  std::string_view topic, event_type_raw, data_raw;
};

bool parse_publish(std::string_view body, publish_req& p,
                   std::string_view& why) {
  std::string_view topic_raw;
  p = {};
  if (!json::for_each_member(body, [&](std::string_view k, std::string_view v) {
        if (k == "topic")
          topic_raw = v;
        else if (k == "event_type")
          p.event_type_raw = v;
        else if (k == "data")
          p.data_raw = v;
      })) {
    why = "body is not a JSON object";
    return false;
  }
  if (!json::plain_string(topic_raw, p.topic) || p.topic.empty()) {
    why = "topic must be a non-empty string";
    return false;
  }
  if (p.event_type_raw.empty())
    p.event_type_raw = "\"\"";
  else if (p.event_type_raw.front() != '"') {
    why = "event_type must be a string";
    return false;
  }
  if (p.data_raw.empty())
    p.data_raw = "{}";
  else if (p.data_raw.front() != '{') {
    why = "data must be an object";
    return false;
  }
  return true;
}

// Encodes the frame once and queues it to every subscriber; returns the id.
std::uint64_t publish(server& s, const publish_req& p) {
  std::uint64_t id = s.next_id();
  topic_entry* t = s.find_topic(p.topic);
  if (t == nullptr || t->subs.empty())
    return id;
  static constexpr std::string_view a = "{\"event_type\":", b = ",\"topic\":\"",
                                    c = "\",\"data\":", d = "}";
  std::size_t n = a.size() + p.event_type_raw.size() + b.size() + p.topic.size()
                  + c.size() + p.data_raw.size() + d.size();
  frame* f = frame::make(n + 10);
  char* o = f->data();
  *o++ = static_cast<char>(0x81);
  if (n < 126) {
    *o++ = static_cast<char>(n);
  } else if (n < 65536) {
    *o++ = 126;
    *o++ = static_cast<char>(n >> 8);
    *o++ = static_cast<char>(n);
  } else {
    *o++ = 127;
    for (int i = 0; i < 8; ++i)
      *o++ = static_cast<char>(std::uint64_t{n} >> (56 - 8 * i));
  }
  for (auto part : {a, p.event_type_raw, b, p.topic, c, p.data_raw, d}) {
    std::memcpy(o, part.data(), part.size());
    o += part.size();
  }
  f->len = static_cast<std::uint32_t>(o - f->data());
  s.fan_out(t, f);
  frame::release(f);
  return id;
}

void append_accepted(std::string& b, std::uint64_t id, std::string_view topic) {
  char num[24];
  auto [end, ec] = std::to_chars(num, num + sizeof num, id);
  (void)ec;
  b += "\"id\":\"";
  b.append(num, end);
  b += "\",\"topic\":\"";
  b += topic;
  b += "\"";
}

void handle_publish(server& s, conn* c, std::string_view body) {
  publish_req p;
  std::string_view why;
  if (!parse_publish(body, p, why))
    return respond_error(s, c, "400 Bad Request", "INVALID_MESSAGE", why);
  auto id = publish(s, p);
  static std::string b;
  b.assign("{");
  append_accepted(b, id, p.topic);
  b += "}";
  respond(s, c, "202 Accepted", b);
}

void handle_batch(server& s, conn* c, std::string_view body) {
  std::string_view events;
  if (!json::for_each_member(body,
                             [&](std::string_view k, std::string_view v) {
                               if (k == "events")
                                 events = v;
                             })
      || events.empty() || events.front() != '[')
    return respond_error(s, c, "400 Bad Request", "INVALID_MESSAGE",
                         "body must be {\\\"events\\\":[...]}");
  static std::string b;
  b.assign("{\"results\":[");
  bool first = true;
  json::for_each_element(events, [&](std::string_view ev) {
    if (!first)
      b += ',';
    first = false;
    publish_req p;
    std::string_view why;
    if (!parse_publish(ev, p, why)) {
      b += "{\"status\":400,\"code\":\"INVALID_MESSAGE\",\"message\":\"";
      b += why;
      b += "\"}";
      return;
    }
    b += "{\"status\":202,";
    append_accepted(b, publish(s, p), p.topic);
    b += "}";
  });
  b += "]}";
  respond(s, c, "200 OK", b);
}

// One complete request at p[0..n), or 0 when more bytes are needed.
std::size_t handle_request(server& s, conn* c, char* p, std::size_t n) {
  std::string_view in{p, n};
  auto end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (n > max_http_head) {
      respond_error(s, c, "431 Request Header Fields Too Large",
                    "INVALID_MESSAGE", "head too large");
      c->close_after = true;
    }
    return 0;
  }
  request r;
  parse_head(in.substr(0, end), r);
  std::size_t head = end + 4;
  if (r.bad || r.chunked || r.content_length > max_http_body) {
    respond_error(s, c, r.chunked ? "411 Length Required" : "400 Bad Request",
                  "INVALID_MESSAGE", "unsupported request framing");
    c->close_after = true;
    return n;
  }
  if (n - head < r.content_length)
    return 0;
  std::string_view body = in.substr(head, r.content_length);
  auto path = r.target.substr(0, r.target.find('?'));
  if (r.version == "HTTP/1.0" ? !icontains(r.connection, "keep-alive")
                              : icontains(r.connection, "close"))
    c->close_after = true;
  if (r.method == "POST" && path == "/api/v1/publish") {
    handle_publish(s, c, body);
  } else if (r.method == "POST" && path == "/api/v1/publish/batch") {
    handle_batch(s, c, body);
  } else if (r.method == "GET" && path == "/ws") {
    if (!iequals(r.upgrade, "websocket") || r.ws_key.empty()) {
      respond_error(s, c, "400 Bad Request", "INVALID_MESSAGE",
                    "expected a WebSocket upgrade");
    } else {
      upgrade(s, c, r);
      c->close_after = false;
    }
  } else if (r.method == "GET" && (path == "/healthz" || path == "/")) {
    respond(s, c, "200 OK", "{\"status\":\"ok\"}");
  } else {
    respond_error(s, c, "404 Not Found", "NOT_FOUND", "no such route");
  }
  return head + r.content_length;
}

void close_ws(server& s, conn* c, unsigned code) {
  char b[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  s.send_ws(c, 0x8, {b, 2});
  c->close_after = true;
}

void handle_text(server& s, conn* c, std::string_view msg) {
  std::string_view type_raw, topics_raw, id_raw;
  bool ok =
      json::for_each_member(msg, [&](std::string_view k, std::string_view v) {
        if (k == "type")
          type_raw = v;
        else if (k == "topics")
          topics_raw = v;
        else if (k == "id")
          id_raw = v;
      });
  bool sub = type_raw == "\"subscribe\"", unsub = type_raw == "\"unsubscribe\"";
  if (ok && type_raw == "\"ping\"")
    return s.send_ws_text(c, "{\"type\":\"pong\"}");
  if (ok && (sub || unsub) && !topics_raw.empty() && topics_raw[0] == '[') {
    json::for_each_element(topics_raw, [&](std::string_view t) {
      std::string_view name;
      if (!json::plain_string(t, name) || name.empty())
        ok = false;
    });
    if (ok) {
      json::for_each_element(topics_raw, [&](std::string_view t) {
        auto name = t.substr(1, t.size() - 2);
        sub ? s.subscribe(c, name) : s.unsubscribe(c, name);
      });
      auto& b = out_buf();
      b += sub ? "{\"type\":\"ack\",\"action\":\"subscribe\",\"topics\":"
               : "{\"type\":\"ack\",\"action\":\"unsubscribe\",\"topics\":";
      b += topics_raw;
      b += ",\"status\":\"success\"";
      if (!id_raw.empty()) {
        b += ",\"id\":";
        b += id_raw;
      }
      b += "}";
      return s.send_ws_text(c, b);
    }
  }
  s.send_ws_text(c, "{\"type\":\"error\",\"code\":\"INVALID_MESSAGE\","
                    "\"message\":\"expected subscribe, unsubscribe or ping\"}");
}

// Client frames at p[0..n); returns the bytes consumed.
std::size_t process_ws(server& s, conn* c, char* p, std::size_t n) {
  std::size_t used = 0;
  while (!c->dead && !c->close_after && n - used >= 2) {
    auto u = reinterpret_cast<unsigned char*>(p + used);
    std::size_t avail = n - used;
    bool fin = u[0] & 0x80;
    unsigned op = u[0] & 0x0f;
    std::uint64_t len = u[1] & 0x7f;
    std::size_t hl = 2;
    if (len == 126) {
      if (avail < 4)
        break;
      len = (std::uint64_t{u[2]} << 8) | u[3];
      hl = 4;
    } else if (len == 127) {
      if (avail < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | u[2 + i];
      hl = 10;
    }
    if (!(u[1] & 0x80) || (u[0] & 0x70) || !fin || op == 0) {
      close_ws(s, c, 1002); // unmasked, extensions or fragments: not here
      break;
    }
    if (len > max_ws_frame) {
      close_ws(s, c, 1009);
      break;
    }
    if (avail < hl + 4 + len)
      break;
    unsigned char* mask = u + hl;
    char* payload = p + used + hl + 4;
    for (std::size_t i = 0; i < len; ++i)
      payload[i] ^= static_cast<char>(mask[i & 3]);
    std::string_view msg{payload, static_cast<std::size_t>(len)};
    used += hl + 4 + len;
    switch (op) {
    case 0x1:
      handle_text(s, c, msg);
      break;
    case 0x2:
      s.send_ws_text(c, "{\"type\":\"error\",\"code\":\"INVALID_MESSAGE\","
                        "\"message\":\"binary frames are not accepted\"}");
      break;
    case 0x8:
      close_ws(s, c, 1000);
      break;
    case 0x9:
      s.send_ws(c, 0xA, msg);
      break;
    case 0xA:
      break;
    default:
      close_ws(s, c, 1002);
    }
  }
  return used;
}

} // namespace

std::size_t process(server& s, conn* c, char* p, std::size_t n) {
  std::size_t used = 0;
  while (!c->dead && !c->close_after && !c->ws && used < n) {
    std::size_t r = handle_request(s, c, p + used, n - used);
    if (r == 0)
      break;
    used += r;
  }
  if (c->ws && !c->dead && !c->close_after && used < n)
    used += process_ws(s, c, p + used, n - used);
  if (c->close_after)
    return n; // the rest is ignored
  return used;
}

} // namespace ceiling
