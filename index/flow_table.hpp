// index/flow_table.hpp -- flow key -> flow id, open addressing.
//
// A slot is 8 bytes: the key's 32-bit hash and the flow's id (+1; 0: empty);
// the keys live in the flow records (index/flows.hpp), compared only when the
// hashes agree. Linear probing, grown at 80% load (the 32-bit hashes make
// a probe past another flow's slot cheap). `prefetch` lets the caller
// start loading a packet's slot while it still works on earlier packets: the
// table outgrows the cache with many flows, and the miss was the cost.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "index/flows.hpp"

namespace stenotype::index {

class flow_table {
public:
  flow_table() { clear(); }

  void prefetch(std::uint32_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }

  /// The id of the flow with `key` (hash `hash`); `records(id)` gives a
  /// flow's key. When absent, inserts `fresh` and returns it.
  template <class Records>
  std::uint32_t find_or_insert(const flow_key& key, std::uint32_t hash, std::uint32_t fresh,
                               const Records& records) {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (s.id == 0) {
        if ((size_ + 1) * 5 > slots_.size() * 4) {
          grow();
          return find_or_insert(key, hash, fresh, records);
        }
        s = slot{hash, fresh + 1};
        ++size_;
        return fresh;
      }
      if (s.hash == hash && records(s.id - 1) == key)
        return s.id - 1;
    }
  }

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(slot); }

  /// keep_size: the next file part likely holds as many flows again;
  /// growing back from 1024 slots would reallocate (fresh pages) each time.
  void clear(bool keep_size = false) {
    slots_.assign(keep_size ? std::max<std::size_t>(slots_.size(), 1024) : 1024, slot{});
    mask_ = slots_.size() - 1;
    size_ = 0;
  }

private:
  struct slot {
    std::uint32_t hash = 0, id = 0;
  };

  void grow() {
    std::vector<slot> bigger(slots_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (const slot& s : slots_) {
      if (s.id == 0)
        continue;
      std::size_t i = s.hash & mask;
      while (bigger[i].id != 0)
        i = (i + 1) & mask;
      bigger[i] = s;
    }
    slots_.swap(bigger);
    mask_ = mask;
  }

  std::vector<slot> slots_;
  std::size_t mask_ = 0, size_ = 0;
};

} // namespace stenotype::index
