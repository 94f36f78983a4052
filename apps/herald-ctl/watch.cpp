#include "watch.hpp"

#include "interrupt.hpp"
#include "views.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

namespace herald::ctl {

namespace {

using clock_type = std::chrono::steady_clock;

int usage(const command_spec& spec, const std::string& why) {
  std::cerr << "herald-ctl " << spec.name << ": " << why
            << "\nusage: herald-ctl " << spec.synopsis << "\n";
  return exit_usage;
}

std::string now_text() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(ms % 1000));
  return clock_time(static_cast<double>(ms)) + buf;
}

void print_event(const context& ctx, const std::string& data) {
  if (ctx.json) {
    std::cout << data << std::endl;
    return;
  }
  rapidjson::Document frame;
  frame.Parse(data.c_str(), data.size());
  if (frame.HasParseError() || !frame.IsObject()) {
    std::cout << now_text() << "  " << data << std::endl;
    return;
  }
  std::string label = text_of(frame, "topic");
  if (label.empty())
    label = text_of(frame, "event_type", "?");
  auto payload = frame.FindMember("data");
  std::cout << now_text() << "  " << label << "  "
            << (payload != frame.MemberEnd() ? json_text(payload->value)
                                             : json_text(frame))
            << std::endl;
}

void print_figures(const context& ctx, const std::string& data, bool header) {
  if (ctx.json) {
    std::cout << data << std::endl;
    return;
  }
  if (header)
    std::printf("%-12s  %8s  %8s  %10s  %10s  %8s  %s\n", "TIME", "MAILBOX",
                "RATE", "HANDLED", "DELIVERED", "DROPPED", "STATE");
  rapidjson::Document row;
  row.Parse(data.c_str(), data.size());
  if (row.HasParseError() || !row.IsObject()) {
    std::printf("%-12s  %s\n", now_text().c_str(), data.c_str());
  } else {
    std::printf(
        "%-12s  %8s  %8s  %10s  %10s  %8s  %s\n", now_text().c_str(),
        text_of(row, "mailbox").c_str(), rate(number_of(row, "rate")).c_str(),
        text_of(row, "handled").c_str(), text_of(row, "delivered").c_str(),
        text_of(row, "dropped").c_str(), text_of(row, "state").c_str());
  }
  std::fflush(stdout);
}

} // namespace

long long whole_number(const std::string& text) {
  if (text.empty() || text.size() > 15)
    return -1;
  long long n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

bool nap(long long ms) {
  auto until = clock_type::now() + std::chrono::milliseconds{ms};
  while (clock_type::now() < until) {
    if (interrupted())
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return !interrupted();
}

int wait_cluster(const context& ctx, const command_spec& spec,
                 const arguments& a) {
  long long want = whole_number(a.positional[0]);
  if (want < 1)
    return usage(spec, "N must be a number of members, 1 or more");
  long long timeout_s = whole_number(a.value("--timeout", "60"));
  if (timeout_s < 0)
    return usage(spec, "--timeout takes whole seconds");
  auto deadline = clock_type::now() + std::chrono::seconds{timeout_s};
  std::string last_progress, members_text = "none";
  long long have = 0;
  for (;;) {
    auto r = ctx.client.get("/admin/v1/cluster");
    std::string progress;
    if (!r.reached) {
      progress = "the node is not reachable yet (" + r.error + ")";
    } else if (r.status >= 400 && r.status < 500) {
      return report_failure(ctx, r);
    } else if (r.status >= 200 && r.status < 300) {
      rapidjson::Document doc;
      doc.Parse(r.body.c_str(), r.body.size());
      if (!doc.HasParseError() && doc.IsObject()) {
        auto m = doc.FindMember("members");
        have = m != doc.MemberEnd() && m->value.IsArray()
                   ? static_cast<long long>(m->value.Size())
                   : 1;
        members_text = joined(doc, "members");
        if (have >= want) {
          std::cerr << "herald-ctl: " << have << " members (" << members_text
                    << ")\n";
          if (ctx.json)
            std::cout << r.body
                      << (r.body.empty() || r.body.back() != '\n' ? "\n" : "");
          else
            show_cluster(doc, std::cout);
          return exit_ok;
        }
        progress = std::to_string(have) + " of " + std::to_string(want)
                   + " members (" + members_text + ")";
      }
    } else {
      progress = "the node answered " + std::to_string(r.status);
    }
    if (progress != last_progress) {
      std::cerr << "herald-ctl: waiting for " << want
                << " members: " << progress << std::endl;
      last_progress = progress;
    }
    if (clock_type::now() >= deadline) {
      std::cerr << "herald-ctl: timed out after " << timeout_s << " s with "
                << have << " of " << want << " members (" << members_text
                << ")\n";
      return exit_timeout;
    }
    if (!nap(300))
      return exit_interrupted;
  }
}

int follow(const context& ctx, const command_spec& spec, const arguments& a) {
  if (a.positional.size() != 2
      || (a.positional[0] != "topic" && a.positional[0] != "actor"))
    return usage(spec, "follow topic PATTERN, or follow actor NODE/ID");
  long long count = whole_number(a.value("--count", "0"));
  if (count < 0)
    return usage(spec, "--count takes a number");
  bool topic = a.positional[0] == "topic";
  std::string target;
  auto idle = std::chrono::milliseconds{45000}; // three missed heartbeats
  if (topic) {
    if (a.has("--interval"))
      return usage(spec, "--interval goes with follow actor");
    target = "/admin/v1/stream/topic?pattern=" + url_encode(a.positional[1]);
  } else {
    actor_ref ref;
    if (!parse_actor_ref(a.positional[1], ref, false))
      return usage(spec, "'" + a.positional[1] + "' is not NODE/ID");
    if (ref.node.empty())
      if (int rc = resolve_local_node(ctx, ref); rc != exit_ok)
        return rc;
    target = "/admin/v1/stream/actor/" + url_encode(ref.node) + "/" + ref.id;
    if (a.has("--interval")) {
      long long ms = whole_number(a.value("--interval"));
      if (ms < 0)
        return usage(spec, "--interval takes milliseconds");
      target += "?interval_ms=" + std::to_string(ms);
      idle = std::max(idle, std::chrono::milliseconds{3 * ms});
    }
  }
  long long seen = 0;
  bool gone = false;
  auto on_event = [&](const http_client::sse_event& ev) {
    if (topic && ev.name == "event") {
      print_event(ctx, ev.data);
    } else if (!topic && ev.name == "figures") {
      print_figures(ctx, ev.data, seen == 0);
    } else if (!topic && ev.name == "gone") {
      if (ctx.json)
        std::cout << (ev.data.empty() ? "{\"gone\":true}" : ev.data)
                  << std::endl;
      else
        std::cout << now_text() << "  gone" << std::endl;
      gone = true;
      return false;
    } else {
      return true; // other events are not what was asked for
    }
    ++seen;
    return count == 0 || seen < count;
  };
  auto r = ctx.client.stream(
      target, on_event, [] { return interrupted(); }, idle);
  if (interrupted())
    return exit_interrupted;
  if (!r.reached || r.status < 200 || r.status >= 300)
    return report_failure(ctx, r);
  if (!r.error.empty()) {
    std::cerr << "herald-ctl: " << r.error << "\n";
    return exit_unreachable;
  }
  if (!gone && (count == 0 || seen < count))
    std::cerr << "herald-ctl: the node ended the stream\n";
  return exit_ok;
}

} // namespace herald::ctl
