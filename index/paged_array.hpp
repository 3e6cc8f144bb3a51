// index/paged_array.hpp -- an append-only array in fixed pages.
//
// Growing never copies or doubles (a std::vector's growth briefly holds 1.5x
// its data and moves it all): memory is what is used, rounded up to one page,
// and element addresses stay put. Indexing is a shift and a mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace stenotype::index {

template <class T, unsigned PageBits = 14>
class paged_array {
public:
  static constexpr std::size_t page_elems = std::size_t{1} << PageBits;

  T& operator[](std::size_t i) { return pages_[i >> PageBits][i & (page_elems - 1)]; }
  const T& operator[](std::size_t i) const { return pages_[i >> PageBits][i & (page_elems - 1)]; }

  std::size_t size() const { return size_; }

  /// Appends a default-initialized element (trivial types: uninitialized) and returns its index.
  std::size_t grow_one() {
    if ((size_ >> PageBits) == pages_.size())
      pages_.push_back(std::unique_ptr<T[]>(new T[page_elems]));
    return size_++;
  }
  void push_back(const T& v) { (*this)[grow_one()] = v; }

  /// Forgets the contents; keeps up to `keep_pages` pages for reuse.
  void clear(std::size_t keep_pages = 0) {
    if (pages_.size() > keep_pages)
      pages_.resize(keep_pages);
    size_ = 0;
  }

  std::size_t memory_bytes() const { return pages_.size() * page_elems * sizeof(T); }

private:
  std::vector<std::unique_ptr<T[]>> pages_;
  std::size_t size_ = 0;
};

} // namespace stenotype::index
