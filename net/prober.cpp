#include "net/prober.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>

namespace herald::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using actors::probe_result;
using protocol::probe_spec;

namespace {

// One probe, from resolve to verdict, on the io_context; `done` is called
// exactly once. The stream's expiry bounds connect, write and read
// together; a name lookup is not bounded (use addresses).
class probe_run : public std::enable_shared_from_this<probe_run> {
public:
  probe_run(asio::io_context& ioc, probe_spec spec,
            std::function<void(probe_result)> done)
      : resolver_(ioc), stream_(ioc), spec_(std::move(spec)),
        done_(std::move(done)) {}

  void start() {
    started_ = std::chrono::steady_clock::now();
    resolver_.async_resolve(
        spec_.host, std::to_string(spec_.port),
        beast::bind_front_handler(&probe_run::on_resolve, shared_from_this()));
  }

private:
  void on_resolve(beast::error_code ec,
                  asio::ip::tcp::resolver::results_type results) {
    if (ec)
      return finish(false, "resolve: " + ec.message());
    stream_.expires_after(std::chrono::milliseconds{spec_.timeout_ms});
    stream_.async_connect(
        results,
        beast::bind_front_handler(&probe_run::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec, asio::ip::tcp::endpoint) {
    if (ec)
      return fail(ec);
    if (spec_.how == probe_spec::kind::tcp)
      return finish(true, "connected");
    req_.method_string(spec_.method);
    req_.target(spec_.path);
    if (!spec_.body.empty()) {
      req_.set(http::field::content_type, "application/json");
      req_.body() = spec_.body;
    }
    req_.prepare_payload();
    req_.version(11);
    req_.set(http::field::host, spec_.host + ":" + std::to_string(spec_.port));
    req_.set(http::field::user_agent, "herald");
    req_.set(http::field::connection, "close");
    http::async_write(
        stream_, req_,
        beast::bind_front_handler(&probe_run::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec)
      return fail(ec);
    // Only the status matters: a small body limit keeps a chatty service
    // from costing memory.
    parser_.body_limit(64 * 1024);
    http::async_read(
        stream_, buffer_, parser_,
        beast::bind_front_handler(&probe_run::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec && ec != http::error::body_limit)
      return fail(ec);
    auto status = parser_.get().result_int();
    status_ = static_cast<uint16_t>(status);
    if (spec_.keep_body)
      body_ = std::move(parser_.get().body());
    auto ok = spec_.expect_status == 0 ? (status >= 200 && status < 300)
                                       : status == spec_.expect_status;
    finish(ok, std::to_string(status));
  }

  void fail(beast::error_code ec) {
    if (ec == beast::error::timeout)
      return finish(false, "timeout after " + std::to_string(spec_.timeout_ms)
                               + " ms");
    finish(false, ec.message());
  }

  void finish(bool ok, std::string detail) {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_);
    done_(probe_result{ok, static_cast<uint32_t>(took.count()),
                       std::move(detail), status_, std::move(body_)});
  }

  asio::ip::tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response_parser<http::string_body> parser_;
  probe_spec spec_;
  std::function<void(probe_result)> done_;
  std::chrono::steady_clock::time_point started_;
  uint16_t status_ = 0;
  std::string body_;
};

// The prober's own interface: the monitors' request, and the result coming
// back from the io thread (delivered on the actor's own thread).
using prober_impl = actors::prober_actor::extend<
    caf::reacts_to<protocol::probe_atom, uint64_t, probe_result>>;

struct prober_state {
  static inline const char* name = "herald.prober";
  uint64_t next = 1;
  std::unordered_map<uint64_t, caf::typed_response_promise<probe_result>>
      pending;
};

prober_impl::behavior_type
prober(prober_impl::stateful_pointer<prober_state> self,
       asio::io_context* ioc) {
  return {
      [=](protocol::probe_atom,
          const probe_spec& spec) -> caf::result<probe_result> {
        auto id = self->state.next++;
        auto rp = self->make_response_promise<probe_result>();
        self->state.pending.emplace(id, rp);
        auto back = caf::actor_cast<caf::actor>(self);
        asio::post(*ioc, [ioc, spec, back, id] {
          std::make_shared<probe_run>(*ioc, spec, [back, id](probe_result r) {
            caf::anon_send(back, protocol::probe_atom::value, id, std::move(r));
          })->start();
        });
        return rp;
      },
      [=](protocol::probe_atom, uint64_t id, probe_result& r) {
        auto i = self->state.pending.find(id);
        if (i == self->state.pending.end())
          return;
        i->second.deliver(std::move(r));
        self->state.pending.erase(i);
      },
  };
}

} // namespace

actors::prober_actor spawn_prober(caf::actor_system& sys,
                                  asio::io_context& ioc) {
  return caf::actor_cast<actors::prober_actor>(sys.spawn(prober, &ioc));
}

} // namespace herald::net
