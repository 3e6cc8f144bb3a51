// index/flat_table.hpp -- an open-addressing hash table from a small key to a
// 32-bit id. One array, linear probing, grown at 80% load: no allocation per
// insert (only when doubling), cache-friendly lookups on the indexing path.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace stenotype::index {

/// Key: trivially copyable, compared with memcmp. Id 0 means "empty".
template <class Key>
class flat_table {
public:
  flat_table() { slots_.resize(64); }

  /// The id stored for `k`, or 0 after inserting `k` with id `fresh` when it
  /// was missing (the caller then uses `fresh`).
  std::uint32_t find_or_insert(const Key& k, std::uint32_t fresh) {
    if ((size_ + 1) * 5 > slots_.size() * 4)
      grow();
    return insert(slots_, k, fresh);
  }

  /// The id stored for `k`, 0 when absent.
  std::uint32_t find(const Key& k) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(k) & mask;; i = (i + 1) & mask) {
      const slot& s = slots_[i];
      if (s.id == 0 || std::memcmp(&s.key, &k, sizeof(Key)) == 0)
        return s.id;
    }
  }

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(slot); }

  template <class F>
  void for_each(F&& fn) const {
    for (const auto& s : slots_)
      if (s.id)
        fn(s.key, s.id);
  }

  void clear() {
    slots_.assign(64, slot{});
    size_ = 0;
  }

private:
  struct slot {
    Key key{};
    std::uint32_t id = 0;
  };

  static std::uint64_t hash(const Key& k) {
    // FNV-1a over the bytes, then a 64-bit finalizer for the low bits we use.
    std::uint64_t h = 1469598103934665603ull;
    const auto* p = reinterpret_cast<const unsigned char*>(&k);
    for (std::size_t i = 0; i < sizeof(Key); ++i)
      h = (h ^ p[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
  }

  std::uint32_t insert(std::vector<slot>& slots, const Key& k, std::uint32_t fresh) {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = hash(k) & mask;; i = (i + 1) & mask) {
      slot& s = slots[i];
      if (s.id == 0) {
        s.key = k;
        s.id = fresh;
        ++size_;
        return 0;
      }
      if (std::memcmp(&s.key, &k, sizeof(Key)) == 0)
        return s.id;
    }
  }

  void grow() {
    std::vector<slot> bigger(slots_.size() * 2);
    size_ = 0;
    for (const auto& s : slots_)
      if (s.id)
        insert(bigger, s.key, s.id);
    slots_.swap(bigger);
  }

  std::vector<slot> slots_;
  std::size_t size_ = 0;
};

} // namespace stenotype::index
