#pragma once

// How each route's answer is shown as text: one function per answer, all
// writing to `out`, notes (members that did not answer) to stderr.

#include "tables.hpp"

#include <ostream>

namespace herald::ctl {

void show_node(const json_value& doc, std::ostream& out);
void show_nodes(const json_value& doc, std::ostream& out);
void show_actors(const json_value& doc, std::ostream& out);
void show_actor(const json_value& doc, std::ostream& out);
void show_tree(const json_value& doc, std::ostream& out);
void show_topics(const json_value& doc, std::ostream& out);
void show_subscribers(const json_value& doc, std::ostream& out);
void show_cluster(const json_value& doc, std::ostream& out);
void show_services(const json_value& doc, std::ostream& out);
void show_reset(const json_value& doc, std::ostream& out);
void show_stopped(const json_value& doc, std::ostream& out);
void show_maintenance(const json_value& doc, std::ostream& out);

/// The actors table (top uses it for its two lists).
void actors_table(const json_value& items, std::ostream& out,
                  std::size_t state_width = 0);

/// Says on stderr which members did not answer, when some did not.
void note_missing(const json_value& doc);

} // namespace herald::ctl
