#include "store/retention_policy.hpp"

#include <algorithm>
#include <limits>
#include <map>

#include "stenotype/status_keys.hpp"

namespace stenotype::store {
namespace {

bool older(const retained_file& a, const retained_file& b) {
  return a.id != b.id ? a.id < b.id : a.thread < b.thread;
}

std::uint64_t saturating_sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

// Bytes still to free per device; deleting a file shrinks its devices' entries.
class deficits {
public:
  void set(std::uint64_t device, std::uint64_t bytes) { need_[device] = bytes; }
  bool short_of_space(const retained_file& f) const {
    return (f.packet_bytes && need(f.packet_device)) || (f.index_bytes && need(f.index_device));
  }
  void deleted(const retained_file& f) {
    take(f.packet_device, f.packet_bytes);
    take(f.index_device, f.index_bytes);
  }
  bool any() const {
    return std::any_of(need_.begin(), need_.end(), [](const auto& e) { return e.second > 0; });
  }
  std::vector<std::uint64_t> short_devices() const {
    std::vector<std::uint64_t> out;
    for (const auto& [dev, bytes] : need_)
      if (bytes > 0)
        out.push_back(dev);
    return out;
  }

private:
  std::uint64_t need(std::uint64_t device) const {
    auto it = need_.find(device);
    return it == need_.end() ? 0 : it->second;
  }
  void take(std::uint64_t device, std::uint64_t bytes) {
    if (auto it = need_.find(device); it != need_.end())
      it->second = saturating_sub(it->second, bytes);
  }
  std::map<std::uint64_t, std::uint64_t> need_;
};

} // namespace

const char* to_string(deletion_reason r) {
  switch (r) {
    case deletion_reason::free_space: return status_key::free_space.data();
    case deletion_reason::file_count: return status_key::file_count.data();
    case deletion_reason::byte_budget: return status_key::byte_budget.data();
  }
  return "?";
}

retention_limits effective_retention(const capture_options& opts) {
  // Under stenographer's server (its index format) the server deletes old
  // files by its own configuration: ours stays off unless asked.
  const retention_limits defaults = opts.index_format == index_format::stenographer
                                      ? retention_limits{0, 0, 0}
                                      : retention_limits{};
  return {opts.disk_free_percentage.value_or(defaults.disk_free_percentage),
          opts.max_directory_files.value_or(defaults.max_directory_files),
          opts.max_data_mb.value_or(defaults.max_data_mb)};
}

std::uint64_t retention_policy::free_space_deficit(const filesystem_space& fs) const {
  const std::uint64_t pct = std::min<std::uint32_t>(limits_.disk_free_percentage, 100);
  // ceil(total * pct / 100) without overflow for any real filesystem size.
  const std::uint64_t line = fs.total / 100 * pct + (fs.total % 100 * pct + 99) / 100;
  return saturating_sub(line, fs.available);
}

retention_plan retention_policy::plan(std::vector<retained_file> files,
                                      std::span<const filesystem_space> filesystems) const {
  std::sort(files.begin(), files.end(), older);
  const std::size_t n = files.size();
  std::vector<std::optional<deletion_reason>> chosen(n);
  std::vector<bool> newest_of_thread(n, false);
  std::map<int, std::size_t> newest, count;
  for (std::size_t i = 0; i < n; ++i) {
    newest[files[i].thread] = i; // sorted: the last one seen is the newest
    ++count[files[i].thread];
  }
  for (const auto& [thread, i] : newest)
    newest_of_thread[i] = true;

  // 1. Per thread file count: exactly the oldest surplus of each thread.
  if (limits_.max_directory_files)
    for (std::size_t i = 0; i < n; ++i)
      if (auto& c = count[files[i].thread]; c > limits_.max_directory_files) {
        chosen[i] = deletion_reason::file_count;
        --c;
      }

  // 2. Byte budget over everything that is left.
  retention_plan out;
  if (limits_.max_data_mb) {
    const std::uint64_t budget = limits_.max_data_mb > std::numeric_limits<std::uint64_t>::max() >> 20
                                   ? std::numeric_limits<std::uint64_t>::max()
                                   : limits_.max_data_mb << 20;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!chosen[i])
        total += files[i].bytes();
    for (std::size_t i = 0; i < n && total > budget; ++i)
      if (!chosen[i] && !newest_of_thread[i]) {
        chosen[i] = deletion_reason::byte_budget;
        total -= files[i].bytes();
      }
    out.byte_budget_unmet = total > budget;
  }

  // 3. Free space, per filesystem, counting what steps 1 and 2 free already.
  if (limits_.disk_free_percentage) {
    deficits need;
    for (const auto& fs : filesystems)
      need.set(fs.device, free_space_deficit(fs));
    for (std::size_t i = 0; i < n; ++i)
      if (chosen[i])
        need.deleted(files[i]);
    for (std::size_t i = 0; i < n && need.any(); ++i)
      if (!chosen[i] && !newest_of_thread[i] && need.short_of_space(files[i])) {
        chosen[i] = deletion_reason::free_space;
        need.deleted(files[i]);
      }
    out.below_line = need.short_devices();
  }

  for (std::size_t i = 0; i < n; ++i)
    if (chosen[i])
      out.deletions.push_back({files[i], *chosen[i]});
  return out;
}

std::optional<retained_file> retention_policy::oldest_on_filesystem(std::span<const retained_file> files,
                                                                    std::uint64_t device) {
  std::optional<retained_file> best;
  for (const auto& f : files)
    if ((f.packet_device == device || (f.index_bytes && f.index_device == device)) && (!best || older(f, *best)))
      best = f;
  return best;
}

} // namespace stenotype::store
