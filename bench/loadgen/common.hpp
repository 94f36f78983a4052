// Shared pieces of herald-loadgen: options, counters, the clock, token
// minting and /proc sampling. Everything runs on one thread: no atomics.
#pragma once

#include "histogram.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>

namespace loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

inline int64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint16_t publish_port = 0; ///< 0: the same as port
  // Subscribers.
  int connections = 0;
  int topics = 1;
  int topics_per_conn = 1;
  std::string topic_prefix = "customer_id:bench:call:";
  int sources = 0;     // loopback source addresses; 0: one per 10,000 conns
  int source_base = 1; // first source is 127.0.0.<source_base>
  int connect_concurrency = 256;
  int coalesce_us = 0; // pause after a partial batch of readable sockets
  double connect_timeout_s = 120;
  std::string secret = "herald-dev-secret-change-me";
  std::string customer = "bench";
  // Publisher.
  std::string api_key = "dev-api-key";
  int publish_conns = 0;
  int pipeline = 16;
  double rate = 0; // events per second in total; 0: as fast as accepted
  int batch = 0;   // 0: POST /publish; n: POST /publish/batch with n events
  int payload = 100;
  double duration_s = 10;
  double warmup_s = 0;
  int64_t count = 0;           // most events to publish; 0: no bound
  int64_t max_outstanding = 0; // most deliveries owed; 0: no window
  double drain_s = 3;
  // Idle holding and sampling.
  double hold_s = 0;
  double settle_s = 2;
  int server_pid = 0;
  std::string ready_file;
};

struct stats {
  // Subscribers.
  int64_t opened = 0;
  int64_t subscribed = 0;
  int64_t connect_errors = 0;
  int64_t handshake_errors = 0;
  int64_t subscribe_errors = 0;
  int64_t closed_by_server = 0;
  int64_t io_errors = 0;
  int64_t pings = 0;
  std::map<int, int64_t> close_codes;
  std::string first_error;
  int64_t received = 0;        // frames carrying "t":
  int64_t received_window = 0; // of which inside the measured window
  int64_t other_frames = 0;
  int64_t bytes_received = 0;
  histogram latency; // ns, for frames received in the window and drain
  // Publisher.
  int64_t requests_sent = 0;
  int64_t events_sent = 0;
  int64_t responses = 0;
  int64_t events_accepted = 0;
  int64_t events_accepted_window = 0;
  int64_t events_refused = 0; // non-2xx or lost with a connection
  int64_t http_errors = 0;    // connection errors and closes
  std::map<int, int64_t> status_counts;
  // Phases.
  bool recording = false; // latency is recorded
  bool in_window = false; // counts go to the window
  int64_t start_ns = mono_ns();
  void note_error(const std::string& what) {
    if (!first_error.empty() || what.empty())
      return;
    char at[32];
    std::snprintf(at, sizeof at, " at %.3f s",
                  static_cast<double>(mono_ns() - start_ns) / 1e9);
    first_error = what + at;
  }
};

// An HS256 JWT for {"sub":sub,"customer_id":customer,"roles":["admin"]},
// valid for a day.
std::string mint_token(const std::string& secret, const std::string& sub,
                       const std::string& customer);

struct proc_sample {
  bool ok = false;
  int64_t rss_kb = 0;
  double cpu_s = 0; // utime + stime
};
proc_sample sample_process(int pid);

// CPU time of the whole machine, all cores, from /proc/stat.
struct machine_sample {
  double busy_s = 0; // user, nice, system, irq, softirq
  double idle_s = 0; // idle, iowait
  double steal_s = 0;
};
machine_sample sample_machine();

// Writes as much of `data` as the non-blocking socket takes now; returns
// bytes written, or -1 on an error other than would-block.
long write_now(tcp::socket& sock, const char* data, std::size_t len);

} // namespace loadgen
