// Runs: the tree and streams families of ledger format 2 (ledger_internal.h).
#include <rocksdb/write_batch.h>

#include "ledger/keys.h"
#include "ledger/ledger_internal.h"

namespace ocop::ledger {

void TreeRuns::Add(int level, uint64_t index, const merkle::Hash& h) {
  if (open_.size() <= static_cast<size_t>(level)) open_.resize(level + 1, 0);
  size_t& at = open_[level];
  Run* run = at ? &runs_[at - 1] : nullptr;
  // A subtree extends its level's run when it comes right after it and does
  // not start a new span.
  if (!run || index % kTreeRunSpan == 0 || run->first + run->hashes.size() / 32 != index) {
    runs_.push_back(Run{level, index, {}});
    at = runs_.size();
    run = &runs_.back();
  }
  run->hashes.append(reinterpret_cast<const char*>(h.data()), h.size());
}

void TreeRuns::Flush(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* tree) {
  for (const Run& r : runs_) batch->Put(tree, keys::TreeNode(r.level, r.first), r.hashes);
  runs_.clear();
  open_.clear();
}

const char* HashInRun(const rocksdb::Iterator& it, int level, uint64_t index, bool* malformed) {
  *malformed = false;
  if (!it.Valid()) return nullptr;
  rocksdb::Slice k = it.key();
  if (k.size() != 9 || static_cast<uint8_t>(k[0]) != level) return nullptr;
  const uint64_t first = keys::GetBE64(std::string_view(k.data() + 1, 8));
  rocksdb::Slice v = it.value();
  if (index < first) return nullptr;
  if (v.size() == 0 || v.size() % 32 != 0) {
    *malformed = true;
    return nullptr;
  }
  if (index - first >= v.size() / 32) return nullptr;
  return v.data() + (index - first) * 32;
}

void StreamRuns::Add(const std::string& stream, uint64_t version, uint64_t seq) {
  auto [it, fresh] = open_.try_emplace(stream, 0);
  Run* run = fresh ? nullptr : &runs_[it->second];
  // An entry extends its stream's run when it is the next version and does
  // not start a new span.
  if (!run || version % kTreeRunSpan == 0 || run->next_version != version) {
    runs_.push_back(Run{keys::StreamEntry(stream, version), version, {}});
    it->second = runs_.size() - 1;
    run = &runs_.back();
  }
  keys::PutBE64(&run->seqs, seq);
  run->next_version = version + 1;
}

void StreamRuns::Flush(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* streams) {
  for (const Run& r : runs_) batch->Put(streams, r.key, r.seqs);
  runs_.clear();
  open_.clear();
}

bool StreamRunAt(const rocksdb::Iterator& it, std::string_view stream, uint64_t* first,
                 uint64_t* count) {
  if (!it.Valid()) return false;
  std::string_view k = AsView(it.key());
  if (k.size() != stream.size() + 9 || !k.starts_with(stream) || k[stream.size()] != '\0') {
    return false;
  }
  *first = keys::GetBE64(k.substr(stream.size() + 1));
  *count = it.value().size() % 8 == 0 ? it.value().size() / 8 : 0;
  return true;
}

Status StreamEntrySeq(rocksdb::Iterator* it, std::string_view stream, uint64_t version,
                      uint64_t* seq) {
  it->SeekForPrev(keys::StreamEntry(stream, version));
  if (!it->status().ok()) return FromRocks(it->status(), "reading a stream entry");
  uint64_t first = 0, count = 0;
  if (!StreamRunAt(*it, stream, &first, &count) || version - first >= count) {
    return Status::Corruption("stream '" + std::string(stream) + "' has no entry for version " +
                              std::to_string(version));
  }
  *seq = keys::GetBE64(AsView(it->value()).substr(8 * (version - first)));
  return Status::OK();
}

}  // namespace ocop::ledger
