// actors/children.cpp -- see children.hpp.
#include "actors/children.hpp"

#include "stenotype/status_keys.hpp"

namespace stenotype {
namespace {

bool is_alive(child_state s) {
  return s == child_state::running || s == child_state::restarting || s == child_state::hung;
}

} // namespace

std::string_view to_string(role r) {
  switch (r) {
    case role::reader: return status_key::reader;
    case role::writer: return status_key::writer;
    case role::indexer: return status_key::indexer;
    case role::retention: return status_key::retention;
    case role::query_service: return status_key::query_service;
  }
  return "unknown";
}

std::string child_key::name() const {
  return thread < 0 ? std::string(to_string(role)) : status_key::component(to_string(role), thread);
}

std::string_view to_string(child_state s) {
  switch (s) {
    case child_state::running: return "running";
    case child_state::restarting: return "restarting";
    case child_state::hung: return "hung";
    case child_state::done: return "done";
    case child_state::failed: return "failed";
  }
  return "unknown";
}

child& child_table::add(const child_key& key, status_api handle, std::optional<restart_policy> restart) {
  child& c = rows_[key];
  c.handle = std::move(handle);
  c.state = child_state::running;
  c.restart = std::move(restart);
  return c;
}

std::pair<const child_key, child>* child_table::find(const caf::actor_addr& addr) {
  for (auto& row : rows_)
    if (row.second.handle && row.second.handle.address() == addr)
      return &row;
  return nullptr;
}

bool child_table::running(const child_key& key) const {
  auto it = rows_.find(key);
  return it != rows_.end() && it->second.state == child_state::running;
}

bool child_table::alive(const child_key& key) const {
  auto it = rows_.find(key);
  return it != rows_.end() && is_alive(it->second.state);
}

std::vector<std::pair<child_key, status_api>> child_table::running_handles() const {
  std::vector<std::pair<child_key, status_api>> out;
  for (const auto& [key, c] : rows_)
    if (c.state == child_state::running)
      out.emplace_back(key, c.handle);
  return out;
}

bool child_table::all_down() const {
  for (const auto& [key, c] : rows_)
    if (is_alive(c.state))
      return false;
  return true;
}

bool child_table::essentials_down() const {
  for (const auto& [key, c] : rows_)
    if (c.essential && is_alive(c.state))
      return false;
  return true;
}

std::vector<std::pair<child_key, status_api>> child_table::running_services() const {
  std::vector<std::pair<child_key, status_api>> out;
  for (const auto& [key, c] : rows_)
    if (!c.essential && c.state == child_state::running)
      out.emplace_back(key, c.handle);
  return out;
}

caf::settings child_table::tree() const {
  caf::settings tree;
  for (const auto& [key, c] : rows_) {
    caf::settings a;
    caf::put(a, status_key::state, std::string(to_string(c.state)));
    caf::put(a, status_key::id, static_cast<int64_t>(c.handle.id()));
    caf::put(a, status_key::restarts, static_cast<int64_t>(c.restarts));
    if (!c.last_error.empty())
      caf::put(a, status_key::last_error, c.last_error);
    if (c.last_error_code)
      caf::put(a, status_key::last_error_code, std::string(to_string(*c.last_error_code)));
    tree.emplace(key.name(), std::move(a));
  }
  return tree;
}

} // namespace stenotype
