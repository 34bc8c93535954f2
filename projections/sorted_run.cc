#include "projections/sorted_run.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace ocop::projections {

void SortedRun::Add(std::string_view key, std::string_view value) {
  assert(key.size() <= kMaxKey);
  Entry& e = entries_.emplace_back();
  std::memcpy(e.key, key.data(), key.size());
  e.key_size = static_cast<uint32_t>(key.size());
  e.value_size = static_cast<uint32_t>(value.size());
  e.value_offset = values_.size();
  values_.append(value);
}

Status SortedRun::WriteTable(const rocksdb::Options& options, rocksdb::ColumnFamilyHandle* family,
                             const std::string& path) {
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.Key() < b.Key(); });
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options, family);
  rocksdb::Status s = writer.Open(path);
  for (size_t i = 0; s.ok() && i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    s = writer.Put(rocksdb::Slice(e.key, e.key_size),
                   rocksdb::Slice(values_.data() + e.value_offset, e.value_size));
  }
  if (s.ok()) s = writer.Finish();
  if (!s.ok()) return Status::IOError("writing " + path + ": " + s.ToString());
  return Status::OK();
}

void SortedRun::Clear() {
  entries_.clear();
  values_.clear();
}

}  // namespace ocop::projections
