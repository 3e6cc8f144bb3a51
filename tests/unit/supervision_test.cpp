// The supervisor's parts that need no pipeline: the child table (names,
// states, the actor tree) and a round of status requests; and the
// supervisor itself over stand-ins for the components, for how it wires
// the retention actor in.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include <caf/all.hpp>

#include "actors/children.hpp"
#include "actors/status_collector.hpp"
#include "actors/supervisor.hpp"
#include "stenotype/status_keys.hpp"

using namespace stenotype;

namespace {

status_api::behavior_type answering(status_api::pointer) {
  return {[](status_atom) { return caf::settings{}; }};
}

struct actors_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  status_api spawn() { return sys.spawn(answering); }
};

// Polls `done` for up to 10 s.
bool wait_for(const std::function<bool()>& done) {
  for (int i = 0; i < 100; ++i) {
    if (done())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string text(const caf::settings& s, const std::string& path) {
  auto v = caf::get_if<std::string>(&s, path);
  return v ? *v : "";
}

} // namespace

TEST_CASE("components are named role-thread, or by role alone for the whole capture") {
  CHECK(child_key{role::reader, 0}.name() == "reader-0");
  CHECK(child_key{role::indexer, 12}.name() == "indexer-12");
  CHECK(child_key{role::writer, -1}.name() == "writer");
  CHECK(child_key{role::retention, -1}.name() == "retention");
  CHECK(child_key{role::writer, 3}.name() == status_key::component(status_key::writer, 3));
  CHECK(to_string(child_state::restarting) == "restarting");
  CHECK(to_string(child_state::hung) == "hung");
}

TEST_CASE("the child table finds components by address and knows when all are down") {
  actors_fixture f;
  child_table t;
  const auto r = f.spawn(), w = f.spawn(), i = f.spawn();
  t.add({role::reader, 0}, r);
  t.add({role::writer, 0}, w);
  t.add({role::indexer, 0}, i, restart_policy{restart_budget{3, std::chrono::seconds(60), std::chrono::seconds(1)},
                                              [&] { return f.spawn(); }});
  auto* row = t.find(w.address());
  REQUIRE(row);
  CHECK(row->first == child_key{role::writer, 0});
  CHECK_FALSE(row->second.restart);
  CHECK(t.at({role::indexer, 0}).restart);
  CHECK_FALSE(t.find(f.spawn().address()));
  CHECK(t.running_handles().size() == 3);

  t.at({role::reader, 0}).state = child_state::done;
  t.at({role::writer, 0}).state = child_state::failed;
  t.at({role::indexer, 0}).state = child_state::restarting;
  CHECK_FALSE(t.running({role::reader, 0}));
  CHECK(t.running_handles().empty());
  CHECK_FALSE(t.all_down()); // a replacement is on its way
  t.at({role::indexer, 0}).state = child_state::hung;
  CHECK_FALSE(t.all_down()); // alive, only silent
  t.at({role::indexer, 0}).state = child_state::failed;
  CHECK(t.all_down());
  for (auto h : {r, w, i})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

TEST_CASE("the actor tree shows state, incarnation, restarts and the last failure with its code") {
  actors_fixture f;
  child_table t;
  const auto r = f.spawn(), i = f.spawn();
  t.add({role::reader, 0}, r);
  auto& c = t.add({role::indexer, 0}, i);
  c.restarts = 2;
  c.last_error = "cannot create index /d/IDX0/.1: Permission denied";
  c.last_error_code = errc::permission;
  const caf::settings tree = t.tree();
  CHECK(text(tree, "reader-0.state") == "running");
  CHECK(caf::get_or(tree, "reader-0.id", int64_t{0}) == static_cast<int64_t>(r.id()));
  CHECK(caf::get_or(tree, "reader-0.restarts", int64_t{-1}) == 0);
  CHECK_FALSE(caf::get_if(&tree, "reader-0.last-error"));
  CHECK(caf::get_or(tree, "indexer-0.restarts", int64_t{0}) == 2);
  CHECK(text(tree, "indexer-0.last-error") == c.last_error);
  CHECK(text(tree, "indexer-0.last-error-code") == "permission");
  for (auto h : {r, i})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

TEST_CASE("a status round ends once, after every component answered, timed out or was gone") {
  int calls = 0;
  status_results got;
  status_round round{3, [&](status_results&& r) {
                       ++calls;
                       got = std::move(r);
                     }};
  caf::settings s;
  caf::put(s, "packets", int64_t{7});
  round.answered({role::reader, 0}, s);
  round.failed({role::writer, 0}, caf::make_error(caf::sec::request_timeout));
  CHECK(calls == 0);
  round.failed({role::indexer, 0}, caf::make_error(caf::sec::request_receiver_down));
  CHECK(calls == 1);
  REQUIRE(got.answers.size() == 1);
  CHECK(got.answers[0].first == child_key{role::reader, 0});
  CHECK(caf::get_or(got.answers[0].second, "packets", int64_t{0}) == 7);
  REQUIRE(got.silent.size() == 1); // only the timeout counts as silence: the gone one has its down message
  CHECK(got.silent[0] == child_key{role::writer, 0});

  int empty_calls = 0;
  status_round nobody{0, [&](status_results&& r) {
                        ++empty_calls;
                        CHECK(r.answers.empty());
                      }};
  CHECK(empty_calls == 1);
}

TEST_CASE("collect_status asks real actors and reports a silent one") {
  actors_fixture f;
  const status_api quick = f.spawn();
  const status_api slow = f.sys.spawn([](status_api::pointer self) -> status_api::behavior_type {
    return {[=](status_atom) -> caf::result<caf::settings> {
      return self->make_response_promise<caf::settings>(); // never delivered
    }};
  });
  caf::scoped_actor self{f.sys};
  auto done = std::make_shared<status_results>();
  auto asker = f.sys.spawn([=](caf::event_based_actor* me) -> caf::behavior {
    collect_status(me, {{child_key{role::reader, 0}, quick}, {child_key{role::writer, 0}, slow}},
                   std::chrono::milliseconds(200), [=](status_results&& r) {
                     *done = std::move(r);
                     me->quit();
                   });
    return {[](int) {}};
  });
  self->wait_for(asker);
  REQUIRE(done->answers.size() == 1);
  CHECK(done->answers[0].first == child_key{role::reader, 0});
  REQUIRE(done->silent.size() == 1);
  CHECK(done->silent[0] == child_key{role::writer, 0});
  for (auto h : {quick, slow})
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

namespace {

using seen_atom = caf::atom_constant<caf::atom("seen")>;

// A stand-in for a pipeline component: answers status (and a free request,
// with true), tells `observer` (seen, name, what) of every stop, written
// event and free request, quits after a stop if it is the reader or the
// retention actor, and at (int code): normally for 0, else failing with errc(code).
caf::behavior stand_in(caf::event_based_actor* self, caf::actor observer, std::string name) {
  self->set_default_handler(caf::drop);
  return {
    [=](status_atom) { return caf::settings{}; },
    [=](int code) {
      if (code == 0)
        self->quit();
      else
        self->quit(make_error(static_cast<errc>(code), name + " failed"));
    },
    [=](stop_atom) {
      self->send(observer, seen_atom::value, name, std::string("stop"));
      if (name == "reader" || name == "retention")
        self->quit();
    },
    [=](written_atom, const file_event& ev) {
      self->send(observer, seen_atom::value, name, "written " + std::to_string(ev.id));
    },
    [=](free_atom, const std::string& dir) {
      self->send(observer, seen_atom::value, name, "free " + dir);
      return true;
    },
  };
}

} // namespace

TEST_CASE("the supervisor forwards written files to retention, has it free space for a full indexer, stops it after the writers") {
  caf::actor_system_config cfg;
  add_error_category(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto spawn = [&](const char* name) { return sys.spawn(stand_in, caf::actor{self}, std::string(name)); };
  const auto reader = spawn("reader"), writer = spawn("writer"), indexer = spawn("indexer"), retention = spawn("retention");
  thread_actors t;
  t.reader = caf::actor_cast<reader_actor>(reader);
  t.writer = caf::actor_cast<writer_actor>(writer);
  t.indexer = caf::actor_cast<indexer_actor>(indexer);
  t.indexer_config.directory = "/nonexistent/IDX0"; // its replacement finds nothing to index there
  const supervisor_actor sup = sys.spawn(supervisor, std::vector<thread_actors>{t},
                                         caf::actor_cast<retention_actor>(retention), std::vector<service_spec>{}, 0u);
  auto next_seen = [&] {
    std::string who, what;
    self->receive([&](seen_atom, const std::string& w, const std::string& x) { who = w, what = x; },
                  caf::after(std::chrono::seconds(10)) >> [] {});
    return who + ": " + what;
  };

  self->send(sup, written_atom::value, file_event{0, 42, "/nonexistent/PKT0/42", 1, 1});
  CHECK(next_seen() == "retention: written 42");
  self->send(indexer, static_cast<int>(errc::no_space)); // its index did not fit
  CHECK(next_seen() == "retention: free /nonexistent/IDX0");
  // The status tree has the retention actor under its own name.
  caf::settings status;
  self->request(sup, std::chrono::seconds(10), status_atom::value).receive([&](caf::settings& s) { status = s; },
                                                                         [](caf::error&) {});
  CHECK(caf::get_if(&status, "retention") != nullptr);
  CHECK(text(status, "actors.retention.state") == "running");

  self->send(sup, stop_atom::value);
  CHECK(next_seen() == "reader: stop");
  self->send(writer, 0); // the writer finishes its files and ends
  CHECK(next_seen() == "retention: stop");
  bool clean = false;
  self->request(sup, std::chrono::seconds(20), wait_atom::value).receive([&] { clean = true; }, [](caf::error&) {});
  CHECK(clean); // a replaced indexer is not a failed capture
}

TEST_CASE("a service that fails is logged and shown, the capture goes on, and services stop with the capture") {
  caf::actor_system_config cfg;
  add_error_category(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto spawn = [&](const char* name) { return sys.spawn(stand_in, caf::actor{self}, std::string(name)); };
  const auto reader = spawn("reader"), writer = spawn("writer");
  thread_actors t;
  t.reader = caf::actor_cast<reader_actor>(reader);
  t.writer = caf::actor_cast<writer_actor>(writer);
  caf::actor service, second;
  std::vector<service_spec> services{
    {role::query_service, [&](caf::actor_system& s, const capture_actor&) {
       service = s.spawn(stand_in, caf::actor{self}, std::string("service"));
       return caf::actor_cast<status_api>(service);
     }}};
  const supervisor_actor sup = sys.spawn(supervisor, std::vector<thread_actors>{t}, retention_actor{}, services, 0u);
  auto status = [&] {
    caf::settings s;
    self->request(sup, std::chrono::seconds(10), status_atom::value).receive([&](caf::settings& x) { s = x; },
                                                                           [](caf::error&) {});
    return s;
  };
  CHECK(wait_for([&] { return text(status(), "actors.query-service.state") == "running"; }));
  self->send(service, static_cast<int>(errc::internal)); // the service fails
  CHECK(wait_for([&] { return text(status(), "actors.query-service.state") == "failed"; }));
  CHECK(text(status(), "actors.reader-0.state") == "running"); // the capture goes on
  CHECK(text(status(), "actors.query-service.last-error") == "service failed");

  // A second capture whose service runs: it hears the stop with the readers.
  const auto reader2 = spawn("reader");
  thread_actors t2;
  t2.reader = caf::actor_cast<reader_actor>(reader2);
  t2.writer = caf::actor_cast<writer_actor>(spawn("writer"));
  std::vector<service_spec> services2{
    {role::query_service, [&](caf::actor_system& s, const capture_actor&) {
       second = s.spawn(stand_in, caf::actor{self}, std::string("service"));
       return caf::actor_cast<status_api>(second);
     }}};
  const supervisor_actor sup2 = sys.spawn(supervisor, std::vector<thread_actors>{t2}, retention_actor{}, services2, 0u);
  self->send(sup2, stop_atom::value);
  std::set<std::string> stopped;
  for (int i = 0; i < 2; ++i)
    self->receive([&](seen_atom, const std::string& who, const std::string& what) { stopped.insert(who + ": " + what); },
                  caf::after(std::chrono::seconds(10)) >> [] {});
  CHECK(stopped == std::set<std::string>{"reader: stop", "service: stop"});
  // Asked before the ends: a supervisor quits once all are down.
  auto wait1 = self->request(sup, std::chrono::seconds(20), wait_atom::value);
  auto wait2 = self->request(sup2, std::chrono::seconds(20), wait_atom::value);
  for (const auto& a : {caf::actor_cast<caf::actor>(t2.writer), second, caf::actor_cast<caf::actor>(t.writer)})
    self->send(a, 0);
  self->send(sup, stop_atom::value);
  bool clean = false;
  std::string why;
  wait1.receive([&] { clean = true; }, [&](caf::error& e) { why = sys.render(e); });
  CHECK(clean); // a failed service is not a failed capture
  clean = false;
  wait2.receive([&] { clean = true; }, [&](caf::error& e) { why = sys.render(e); });
  INFO(why);
  CHECK(clean);
}
