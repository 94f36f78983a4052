// herald-loadgen: connects and subscribes N WebSocket clients, publishes
// through the publish API, measures publish-to-receive latency from the
// send timestamp in each payload, and prints one JSON object on stdout.
// One io_context on one thread; every phase is bounded in time.
#include "publisher.hpp"
#include "subscribers.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace loadgen;

namespace {

const char* usage = R"(herald-loadgen --port PORT [options]
  --host ADDR              server address (127.0.0.1)
  --connections N          WebSocket subscribers (0)
  --topics T               topics, subscribed round-robin (1)
  --topics-per-conn K      subscriptions per connection (1)
  --topic-prefix P         topic i is P<i> (customer_id:bench:call:)
  --sources S              loopback source addresses 127.0.0.<base>.. (auto)
  --source-base B          first source address octet (1)
  --connect-concurrency C  handshakes in progress at once (256)
  --connect-timeout S      give up waiting for subscriptions after S s (120)
  --coalesce-us U          after a partial batch of readable sockets, wait
                           U us before reading again (0: read at once)
  --secret S --customer C  HS256 secret and customer_id of minted tokens
  --api-key K              publish API key (dev-api-key)
  --publish-port P         publish to this port instead of --port (a
                           cluster: subscribers on one node, publisher on
                           another)
  --publish-conns P        HTTP connections publishing (0: no publishing)
  --pipeline D             requests in flight per connection (16)
  --rate R                 events/s in total; 0: as fast as answered (0)
  --batch B                B events per POST /publish/batch; 0: single (0)
  --payload BYTES          size of the event's data JSON (100)
  --duration S             measured publishing window (10)
  --warmup S               publishing before the window (0)
  --count N                publish at most N events (0: no bound)
  --max-outstanding W      hold back while W deliveries are owed (0: off)
  --drain S                wait up to S s for owed deliveries after (3)
  --hold S                 keep the subscribers idle S s before publishing
  --settle S               wait S s after subscribing before sampling RSS (2)
  --server-pid PID         sample this process's RSS and CPU
  --ready-file PATH        touch PATH once every client has subscribed
)";

bool parse_options(int argc, char** argv, options& o) {
  std::map<std::string, std::function<void(const std::string&)>> set{
      {"host", [&](auto& v) { o.host = v; }},
      {"port", [&](auto& v) { o.port = static_cast<uint16_t>(std::stoi(v)); }},
      {"publish-port",
       [&](auto& v) { o.publish_port = static_cast<uint16_t>(std::stoi(v)); }},
      {"connections", [&](auto& v) { o.connections = std::stoi(v); }},
      {"topics", [&](auto& v) { o.topics = std::stoi(v); }},
      {"topics-per-conn", [&](auto& v) { o.topics_per_conn = std::stoi(v); }},
      {"topic-prefix", [&](auto& v) { o.topic_prefix = v; }},
      {"sources", [&](auto& v) { o.sources = std::stoi(v); }},
      {"source-base", [&](auto& v) { o.source_base = std::stoi(v); }},
      {"connect-concurrency",
       [&](auto& v) { o.connect_concurrency = std::stoi(v); }},
      {"connect-timeout", [&](auto& v) { o.connect_timeout_s = std::stod(v); }},
      {"coalesce-us", [&](auto& v) { o.coalesce_us = std::stoi(v); }},
      {"secret", [&](auto& v) { o.secret = v; }},
      {"customer", [&](auto& v) { o.customer = v; }},
      {"api-key", [&](auto& v) { o.api_key = v; }},
      {"publish-conns", [&](auto& v) { o.publish_conns = std::stoi(v); }},
      {"pipeline", [&](auto& v) { o.pipeline = std::max(1, std::stoi(v)); }},
      {"rate", [&](auto& v) { o.rate = std::stod(v); }},
      {"batch", [&](auto& v) { o.batch = std::stoi(v); }},
      {"payload", [&](auto& v) { o.payload = std::stoi(v); }},
      {"duration", [&](auto& v) { o.duration_s = std::stod(v); }},
      {"warmup", [&](auto& v) { o.warmup_s = std::stod(v); }},
      {"count", [&](auto& v) { o.count = std::stoll(v); }},
      {"max-outstanding", [&](auto& v) { o.max_outstanding = std::stoll(v); }},
      {"drain", [&](auto& v) { o.drain_s = std::stod(v); }},
      {"hold", [&](auto& v) { o.hold_s = std::stod(v); }},
      {"settle", [&](auto& v) { o.settle_s = std::stod(v); }},
      {"server-pid", [&](auto& v) { o.server_pid = std::stoi(v); }},
      {"ready-file", [&](auto& v) { o.ready_file = v; }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help")
      return false;
    if (arg.rfind("--", 0) != 0) {
      std::cerr << "unexpected argument: " << arg << '\n';
      return false;
    }
    arg = arg.substr(2);
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    auto it = set.find(arg);
    if (it == set.end()) {
      std::cerr << "unknown option --" << arg << '\n';
      return false;
    }
    try {
      it->second(value);
    } catch (const std::exception&) {
      std::cerr << "bad value for --" << arg << ": '" << value << "'\n";
      return false;
    }
  }
  if (o.port == 0)
    std::cerr << "--port is required\n";
  return o.port != 0;
}

// Raises the open-files limit to the hard limit; returns it.
long raise_nofile() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<long>(rl.rlim_cur);
}

// What one trivial system call costs here (virtual machines differ a lot):
// the floor under every recv and send of the benchmark.
double syscall_ns() {
  constexpr int n = 20000;
  auto start = mono_ns();
  for (int i = 0; i < n; ++i)
    syscall(SYS_getppid);
  return static_cast<double>(mono_ns() - start) / n;
}

double own_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\')
      out += std::string("\\") + ch;
    else if (static_cast<unsigned char>(ch) < 0x20)
      out += ' ';
    else
      out += ch;
  }
  return out + "\"";
}

std::string json_map(const std::map<int, int64_t>& m) {
  std::string out = "{";
  for (auto& [k, v] : m)
    out += (out.size() > 1 ? "," : "") + std::string("\"") + std::to_string(k)
           + "\":" + std::to_string(v);
  return out + "}";
}

struct run_state {
  int64_t start_ns = mono_ns();
  double subscribe_s = -1;
  long nofile = 0;
  int capped_from = 0;
  proc_sample base, subscribed, window_start, window_end, last;
  machine_sample machine_start, machine_end;
  double gen_cpu_window_start = 0, gen_cpu_window = 0;
  int64_t window_start_ns = 0, window_end_ns = 0;
  bool timed_out = false;
  double syscall_ns = 0;
};

void print_result(const options& o, const stats& st, const run_state& rs) {
  double window_s = rs.window_end_ns > rs.window_start_ns
                        ? (rs.window_end_ns - rs.window_start_ns) / 1e9
                        : 0;
  double server_cpu = rs.window_end.cpu_s - rs.window_start.cpu_s;
  auto rate = [&](double n) { return window_s > 0 ? n / window_s : 0; };
  auto us = [](uint64_t ns) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", static_cast<double>(ns) / 1000);
    return std::string(text);
  };
  int64_t rss_delta = rs.subscribed.rss_kb - rs.base.rss_kb;
  std::ostringstream j;
  j << "{\"conditions\":{\"host\":" << json_string(o.host)
    << ",\"port\":" << o.port << ",\"connections\":" << o.connections
    << ",\"connections_requested\":"
    << (rs.capped_from ? rs.capped_from : o.connections)
    << ",\"topics\":" << o.topics
    << ",\"topics_per_conn\":" << o.topics_per_conn
    << ",\"subscribers_per_topic\":"
    << (o.topics > 0
            ? static_cast<double>(o.connections) * o.topics_per_conn / o.topics
            : 0)
    << ",\"payload_bytes\":" << o.payload
    << ",\"publish_conns\":" << o.publish_conns
    << ",\"pipeline\":" << o.pipeline << ",\"batch\":" << o.batch
    << ",\"rate\":" << o.rate << ",\"duration_s\":" << o.duration_s
    << ",\"warmup_s\":" << o.warmup_s
    << ",\"max_outstanding\":" << o.max_outstanding
    << ",\"cores\":" << sysconf(_SC_NPROCESSORS_ONLN)
    << ",\"nofile\":" << rs.nofile << ",\"syscall_ns\":" << rs.syscall_ns
    << "}";
  j << ",\"connections\":" << st.opened << ",\"subscribed\":" << st.subscribed
    << ",\"subscribe_s\":" << rs.subscribe_s
    << ",\"published\":" << st.events_sent
    << ",\"requests\":" << st.requests_sent
    << ",\"accepted\":" << st.events_accepted
    << ",\"accepted_window\":" << st.events_accepted_window
    << ",\"refused\":" << st.events_refused
    << ",\"status\":" << json_map(st.status_counts)
    << ",\"received\":" << st.received
    << ",\"received_window\":" << st.received_window
    << ",\"window_s\":" << window_s << ",\"window_start_at_s\":"
    << (rs.window_start_ns ? (rs.window_start_ns - rs.start_ns) / 1e9 : 0)
    << ",\"deliveries_per_s\":" << rate(st.received_window)
    << ",\"accepted_per_s\":" << rate(st.events_accepted_window);
  j << ",\"latency_us\":{\"count\":" << st.latency.count()
    << ",\"min\":" << us(st.latency.min())
    << ",\"p50\":" << us(st.latency.quantile(0.5))
    << ",\"p90\":" << us(st.latency.quantile(0.9))
    << ",\"p99\":" << us(st.latency.quantile(0.99))
    << ",\"p999\":" << us(st.latency.quantile(0.999))
    << ",\"max\":" << us(st.latency.max()) << "}";
  j << ",\"errors\":{\"connect\":" << st.connect_errors
    << ",\"handshake\":" << st.handshake_errors
    << ",\"subscribe\":" << st.subscribe_errors
    << ",\"closed_by_server\":" << st.closed_by_server
    << ",\"close_codes\":" << json_map(st.close_codes)
    << ",\"io\":" << st.io_errors << ",\"http\":" << st.http_errors
    << ",\"first\":" << json_string(st.first_error) << "}";
  j << ",\"generator_cpu_s\":" << own_cpu_s()
    << ",\"generator_cpu_window_s\":" << rs.gen_cpu_window
    << ",\"wall_s\":" << (mono_ns() - rs.start_ns) / 1e9
    << ",\"timed_out\":" << (rs.timed_out ? "true" : "false");
  if (window_s > 0) {
    // What else ran on the machine during the window: noise indicator.
    double busy = rs.machine_end.busy_s - rs.machine_start.busy_s;
    j << ",\"machine_window\":{\"busy_cpu_s\":" << busy
      << ",\"idle_cpu_s\":" << rs.machine_end.idle_s - rs.machine_start.idle_s
      << ",\"steal_cpu_s\":"
      << rs.machine_end.steal_s - rs.machine_start.steal_s
      << ",\"other_cpu_s\":"
      << std::max(0.0, busy - rs.gen_cpu_window
                           - (o.server_pid > 0 ? server_cpu : 0))
      << "}";
  }
  if (o.server_pid > 0) {
    j << ",\"server_stats\":{\"pid\":" << o.server_pid
      << ",\"rss_base_kb\":" << rs.base.rss_kb
      << ",\"rss_subscribed_kb\":" << rs.subscribed.rss_kb
      << ",\"rss_end_kb\":" << rs.last.rss_kb << ",\"rss_per_conn_bytes\":"
      << (st.subscribed > 0 ? rss_delta * 1024.0 / st.subscribed : 0)
      << ",\"cpu_window_s\":" << server_cpu
      << ",\"cpu_total_s\":" << rs.last.cpu_s << ",\"deliveries_per_cpu_s\":"
      << (server_cpu > 0 ? st.received_window / server_cpu : 0)
      << ",\"accepted_per_cpu_s\":"
      << (server_cpu > 0 ? st.events_accepted_window / server_cpu : 0) << "}";
  }
  j << "}\n";
  std::fputs(j.str().c_str(), stdout);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) {
    std::cerr << usage;
    return 2;
  }
  run_state rs;
  rs.nofile = raise_nofile();
  long room = rs.nofile - o.publish_conns - 32;
  if (o.connections > room) {
    std::cerr << "loadgen: open-files limit " << rs.nofile << ": "
              << o.connections << " connections capped to " << room << '\n';
    rs.capped_from = o.connections;
    o.connections = static_cast<int>(std::max(0L, room));
  }
  rs.base = sample_process(o.server_pid);
  rs.syscall_ns = syscall_ns();

  asio::io_context ioc{1};
  stats st;
  subscribers subs(ioc, o, st);
  publisher pub(ioc, o, st);
  // One timer per chain: a chain that shares a timer can cancel the other's
  // wait while its own completion is already queued.
  asio::steady_timer phase(ioc), drain_poll(ioc), count_poll(ioc),
      deadline(ioc);
  auto secs = [](double s) {
    return std::chrono::microseconds(static_cast<int64_t>(s * 1e6));
  };

  auto finish = [&] {
    rs.last = sample_process(o.server_pid);
    if (rs.window_end_ns == 0 && rs.window_start_ns != 0) {
      rs.window_end_ns = mono_ns();
      rs.window_end = rs.last;
      rs.machine_end = sample_machine();
      rs.gen_cpu_window = own_cpu_s() - rs.gen_cpu_window_start;
    }
    print_result(o, st, rs);
    // Exit without closing 100,000 sockets one by one: the kernel does it.
    _exit(0);
  };
  deadline.expires_after(secs(o.connect_timeout_s + o.settle_s + o.hold_s
                              + o.warmup_s + o.duration_s + o.drain_s + 60));
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      rs.timed_out = true;
      finish();
    }
  });

  // Deliveries owed for the events accepted so far.
  auto owed = [&] {
    return static_cast<double>(st.events_accepted) * subs.fanout()
           - static_cast<double>(st.received);
  };
  int64_t last_received = -1, last_progress_ns = 0;
  std::function<void()> drain = [&] {
    auto now = mono_ns();
    if (st.received != last_received) {
      last_received = st.received;
      last_progress_ns = now;
    }
    bool settled = pub.in_flight() == 0
                   && (owed() <= 0 || now - last_progress_ns > 500'000'000);
    if (settled || now - rs.window_end_ns > o.drain_s * 1e9)
      return finish();
    drain_poll.expires_after(std::chrono::milliseconds(10));
    drain_poll.async_wait([&](boost::system::error_code ec) {
      if (!ec)
        drain();
    });
  };
  auto end_window = [&] {
    if (rs.window_end_ns)
      return;
    st.in_window = false;
    rs.window_end_ns = mono_ns();
    rs.window_end = sample_process(o.server_pid);
    rs.machine_end = sample_machine();
    rs.gen_cpu_window = own_cpu_s() - rs.gen_cpu_window_start;
    pub.stop();
    phase.cancel();
    count_poll.cancel();
    drain();
  };
  // Ends the window early once a bounded count is all answered.
  std::function<void()> watch_count = [&] {
    if (rs.window_end_ns != 0 || o.count <= 0)
      return;
    if (st.events_sent >= o.count && pub.in_flight() == 0)
      return end_window();
    count_poll.expires_after(std::chrono::milliseconds(10));
    count_poll.async_wait([&](boost::system::error_code ec) {
      if (!ec)
        watch_count();
    });
  };
  auto start_window = [&] {
    st.in_window = st.recording = true;
    rs.window_start_ns = mono_ns();
    rs.window_start = sample_process(o.server_pid);
    rs.machine_start = sample_machine();
    rs.gen_cpu_window_start = own_cpu_s();
    phase.expires_after(secs(o.duration_s));
    phase.async_wait([&](boost::system::error_code ec) {
      if (!ec)
        end_window();
    });
  };
  auto publish = [&] {
    if (o.publish_conns <= 0)
      return finish();
    pub.connect([&] {
      if (pub.connected() == 0)
        return finish();
      if (o.max_outstanding > 0)
        subs.on_frames([&] { pub.pump(); });
      pub.begin([&] { return subs.fanout(); });
      watch_count();
      if (o.warmup_s <= 0)
        return start_window();
      phase.expires_after(secs(o.warmup_s));
      phase.async_wait([&](boost::system::error_code ec) {
        if (!ec)
          start_window();
      });
    });
  };
  auto subscribed = [&] {
    phase.cancel();
    rs.subscribe_s = (mono_ns() - rs.start_ns) / 1e9;
    std::cerr << "loadgen: " << st.subscribed << " of " << o.connections
              << " subscribed in " << rs.subscribe_s << " s\n";
    if (!o.ready_file.empty())
      std::ofstream(o.ready_file) << st.subscribed << '\n';
    double wait = o.connections > 0 && (o.server_pid > 0 || o.hold_s > 0)
                      ? o.settle_s
                      : 0;
    phase.expires_after(secs(wait));
    phase.async_wait([&](boost::system::error_code ec) {
      if (ec)
        return;
      rs.subscribed = sample_process(o.server_pid);
      phase.expires_after(secs(o.hold_s));
      phase.async_wait([&](boost::system::error_code ec) {
        if (!ec)
          publish();
      });
    });
  };
  phase.expires_after(secs(o.connect_timeout_s));
  phase.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      std::cerr << "loadgen: connect timeout\n";
      subs.give_up();
    }
  });
  subs.start(subscribed);
  ioc.run();
  finish();
}
