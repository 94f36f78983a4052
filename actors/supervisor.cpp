#include "actors/supervisor.hpp"

#include "actors/instrument.hpp"
#include "actors/router.hpp"

#include <caf/all.hpp>

namespace herald::actors {

supervisor_actor::behavior_type
root_supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
                context_ptr ctx, std::function<void(std::string)> on_fatal) {
  // The supervisor handles a few messages in its life: its block only
  // lists it, with the router under it.
  enroll(self, ctx, actor_kind::supervisor, "root", 0);
  self->state.router =
      self->spawn<caf::monitored>(router, ctx, uint64_t{self->id()});
  self->set_down_handler([=](caf::down_msg& msg) {
    if (self->state.stopping)
      return;
    on_fatal("router terminated: " + self->system().render(msg.reason));
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    // Shutdown: take the router (and through its links, every topic) down
    // with us.
    self->state.stopping = true;
    self->send_exit(self->state.router, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](protocol::router_atom) { return self->state.router; },
  };
}

} // namespace herald::actors
