// Retention deletes the oldest files while others read the data directory:
// a query, the indexer's rebuild from disk and start-up recovery skip a
// file that vanished, and an interrupted deletion leaves nothing that
// trips them.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include <caf/all.hpp>

#include "actors/indexer.hpp"
#include "index/index_builder.hpp"
#include "index/index_file.hpp"
#include "io/layout.hpp"
#include "io/read_problem.hpp"
#include "query/executor.hpp"
#include "query/query_parser.hpp"
#include "store/recovery.hpp"
#include "store/retention.hpp"
#include "support/built_files.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;

namespace {

constexpr std::size_t bs = 64 * 1024;
constexpr std::uint32_t frames_per_file = 50;

// DIR/PKT0 with `files` indexed packet files, file f holding frames numbered
// f * frames_per_file onwards, captured 1000 s after the previous file's:
// the query's merge opens each file only when it reaches its time.
struct data_dir {
  explicit data_dir(int files) {
    io::make_directories(pkt);
    io::make_directories(idx);
    const auto frames = test::numbered_frames(files * frames_per_file);
    for (int f = 0; f < files; ++f) {
      const auto first = frames.begin() + f * frames_per_file;
      const std::vector<std::vector<std::uint8_t>> mine(first, first + frames_per_file);
      const std::uint64_t id = 1'700'000'000'000'000 + static_cast<std::uint64_t>(f) * 1'000'000'000;
      test::write_bytes(pkt + "/" + io::final_name(id),
                        test::build_packet_file(mine, bs, io::block_builder::layout::marked,
                                                static_cast<std::uint32_t>(id / 1'000'000)));
      index::index_builder b{bs};
      index::index_and_publish(pkt + "/" + io::final_name(id), b, idx, io::final_name(id), index_format::native);
      ids.push_back(id);
    }
  }

  std::string packet_file(int f) const { return pkt + "/" + io::final_name(ids[static_cast<std::size_t>(f)]); }
  std::string index_file(int f) const { return idx + "/" + io::final_name(ids[static_cast<std::size_t>(f)]); }

  test::temp_dir tmp;
  std::string pkt = io::packet_dir(tmp.path(), 0), idx = io::index_dir(tmp.path(), 0);
  std::vector<std::uint64_t> ids;
};

struct answer {
  std::vector<long> frames; // numbers, in the order given
  io::problem_list problems;
};

// "udp" over the directory; `on_first` runs when the first packet is given.
answer udp_query(const data_dir& d, const std::function<void()>& on_first) {
  answer a;
  bool first = true;
  const auto stats = query::run_query(
    d.tmp.path(), query::parse_query("udp", 0),
    [&](const io::packet_ref& p) {
      if (std::exchange(first, false))
        on_first();
      a.frames.push_back(test::frame_number({p.frame, p.frame + p.caplen}));
      return true;
    },
    [](const io::problem&) {});
  a.problems = stats.problems;
  return a;
}

std::vector<long> numbers(int from_file, int to_file) {
  std::vector<long> out;
  for (long n = from_file * long{frames_per_file}; n < to_file * long{frames_per_file}; ++n)
    out.push_back(n);
  return out;
}

} // namespace

TEST_CASE("a query skips a file deleted after it was listed, with one warning, and exits 0") {
  data_dir d{3};
  // Retention deletes the middle file (packet file, then index) while the
  // query is answering from the first.
  const auto a = udp_query(d, [&] { store::delete_file(d.tmp.path(), 0, d.ids[1]); });
  auto expected = numbers(0, 1);
  const auto last = numbers(2, 3);
  expected.insert(expected.end(), last.begin(), last.end());
  CHECK(a.frames == expected);
  REQUIRE(a.problems.all.size() == 1);
  CHECK(a.problems.all[0].kind == io::problem_kind::file_deleted);
  CHECK(a.problems.all[0].file == d.packet_file(1));
  CHECK(a.problems.all[0].text.find(d.packet_file(1)) == 0);
  CHECK(a.problems.all[0].text.find("deleted") != std::string::npos);
  CHECK(a.problems.exit_status() == io::exit_status::complete);
}

TEST_CASE("a query reads a file whose index alone vanished whole, and exits 0") {
  data_dir d{3};
  const auto a = udp_query(d, [&] { REQUIRE(::unlink(d.index_file(2).c_str()) == 0); });
  CHECK(a.frames == numbers(0, 3));
  REQUIRE(a.problems.all.size() == 1);
  CHECK(a.problems.all[0].kind == io::problem_kind::index_missing);
  CHECK(a.problems.exit_status() == io::exit_status::complete);
}

TEST_CASE("a file that cannot be opened for another reason is still reported as unreadable (exit 3)") {
  data_dir d{2};
  // Not gone but not a file either: this is damage, not retention.
  const auto a = udp_query(d, [&] {
    REQUIRE(::unlink(d.packet_file(1).c_str()) == 0);
    io::make_directories(d.packet_file(1));
  });
  CHECK(a.frames == numbers(0, 1));
  REQUIRE_FALSE(a.problems.all.empty());
  CHECK(a.problems.exit_status() == io::exit_status::incomplete);
}

TEST_CASE("recovery removes the orphan index of a deletion cut short, and keeps the rest") {
  data_dir d{3};
  // Killed between the two unlinks of a deletion: the packet file is gone.
  REQUIRE(::unlink(d.packet_file(0).c_str()) == 0);
  std::vector<std::string> log;
  store::recover_thread_dir(d.tmp.path(), 0, bs, index_format::native, [&](const std::string& l) { log.push_back(l); });
  CHECK(io::list_final_ids(d.idx) == std::vector<std::uint64_t>{d.ids[1], d.ids[2]});
  CHECK(io::list_final_ids(d.pkt) == io::list_final_ids(d.idx));
  REQUIRE(log.size() == 1);
  CHECK(log[0] == "recovery: removed " + d.index_file(0) + " (its packet file was deleted)");
}

TEST_CASE("the indexer takes a packet file deleted before it could index it from disk in its stride") {
  data_dir d{1};
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto indexer = spawn_indexer(system, indexer_init{0, d.idx, static_cast<std::uint32_t>(bs), 0, "none", {}});
  self->monitor(indexer);
  // A file whose blocks it never saw (a restarted indexer), deleted by
  // retention before the `written` event reached it.
  const std::uint64_t gone = d.ids[0] + 1;
  self->send(indexer, written_atom::value, file_event{0, gone, d.pkt + "/" + io::final_name(gone), bs, 1});
  bool alive = false;
  self->request(indexer, std::chrono::seconds(10), status_atom::value)
    .receive([&](caf::settings& s) { alive = caf::get_or(s, "files-indexed", std::int64_t{-1}) == 0; },
             [](caf::error&) {});
  CHECK(alive);
  self->send(indexer, eos_atom::value);
  caf::error reason = make_error(errc::internal, "no down message");
  self->receive([&](caf::down_msg& m) { reason = m.reason; }, caf::after(std::chrono::seconds(10)) >> [] {});
  CHECK_FALSE(reason);
  CHECK(io::list_final_ids(d.idx) == std::vector<std::uint64_t>{d.ids[0]});
}
