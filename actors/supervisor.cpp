#include "actors/supervisor.hpp"

#include "actors/health.hpp"
#include "actors/instrument.hpp"
#include "actors/router.hpp"

#include <caf/all.hpp>

namespace herald::actors {

supervisor_actor::behavior_type
root_supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
                context_ptr ctx, std::function<void(std::string)> on_fatal) {
  // The root handles a few messages in its life: its block only lists it,
  // with the tree under it.
  enroll(self, ctx, actor_kind::supervisor, "root", 0);
  auto& st = self->state;
  st.ctx = ctx;
  st.router = self->spawn<caf::monitored>(router, ctx, uint64_t{self->id()});
  st.health = self->spawn<caf::monitored>(health_board, ctx, st.router,
                                          uint64_t{self->id()});
  st.escalating[st.router.address()] = "router";
  st.escalating[st.health.address()] = "health board";
  st.children.push_back(caf::actor_cast<caf::actor>(st.health));
  st.children.push_back(caf::actor_cast<caf::actor>(st.router));
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.stopping)
      return;
    auto it = st.escalating.find(msg.source);
    auto what = it == st.escalating.end() ? std::string{"a child"} : it->second;
    on_fatal(what + " terminated: " + self->system().render(msg.reason));
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    // Shutdown: groups first (their children publish through the router),
    // then the board and the router (and through its links, every topic).
    auto& st = self->state;
    st.stopping = true;
    for (auto i = st.children.rbegin(); i != st.children.rend(); ++i)
      self->send_exit(*i, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](protocol::router_atom) {
        return std::make_tuple(self->state.router, self->state.health);
      },
      [=](protocol::adopt_atom, std::string& name, caf::actor& child) {
        self->monitor(child);
        self->state.escalating[child.address()] = std::move(name);
      },
      [=](protocol::group_atom, group_spec& spec) {
        auto& st = self->state;
        auto name = spec.name;
        auto sup = self->spawn<caf::monitored>(group_supervisor, st.ctx,
                                               std::move(spec), st.health,
                                               uint64_t{self->id()});
        st.escalating[sup.address()] = name + " supervisor";
        st.children.push_back(caf::actor_cast<caf::actor>(sup));
        return sup;
      },
  };
}

} // namespace herald::actors
