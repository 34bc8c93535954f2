// Reading the log: events, streams, idempotency keys, and waiting for appends.
#include "ledger/ledger.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/exception.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <unordered_map>

#include "ledger/event.capnp.h"
#include "ledger/event_view.h"
#include "ledger/keys.h"
#include "ledger/ledger_internal.h"

namespace ocop::ledger {
namespace fs = std::filesystem;

uint64_t Ledger::WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(commit_mu_);
  commit_cv_.wait_for(l, timeout, [&] { return closing_ || Size() > after_seq; });
  return Size();
}

Status Ledger::StreamVersion(std::string_view stream, uint64_t* version) {
  std::string key(stream);
  uint64_t generation;
  {
    std::lock_guard<std::mutex> l(heads_mu_);
    auto it = heads_cache_.find(key);
    if (it != heads_cache_.end()) {
      *version = it->second;
      return Status::OK();
    }
    generation = heads_generation_;
  }
  Status s = StreamVersionStored(stream, version);
  if (s.ok()) {
    // Never overwrites: a commit that raced this read has already put the
    // newer version there, or will put it after (see WriteGroup). If the
    // cache was cleared meanwhile, that newer version may be gone with it,
    // so what was read is not kept.
    std::lock_guard<std::mutex> l(heads_mu_);
    if (heads_generation_ == generation && heads_cache_.size() < kHeadsCacheLimit) {
      heads_cache_.emplace(std::move(key), *version);
    }
  }
  return s;
}

Status Ledger::ForEachStream(std::string_view prefix,
                             const std::function<bool(std::string_view)>& fn) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // the heads' prefix extractor is a hint for inserts only
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, heads_cf_));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    std::string_view name(it->key().data(), it->key().size());
    if (!name.starts_with(prefix) || !fn(name)) break;
  }
  return FromRocks(it->status(), "listing streams");
}

Status Ledger::StreamVersionStored(std::string_view stream, uint64_t* version) {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), heads_cf_, rocksdb::Slice(stream.data(), stream.size()), &v);
  if (s.IsNotFound()) {
    *version = 0;
    return Status::OK();
  }
  if (!s.ok()) return FromRocks(s, "reading a stream version");
  *version = keys::GetBE64(v);
  // RocksDB may hold a group written but not yet durable (append.cc, write
  // then sync). writing_ is raised before a group's write, so if nothing is
  // beyond Size() now, what was read above was durable; otherwise step back
  // to the last version whose event is within Size().
  const uint64_t size = Size();
  if (writing_.load(std::memory_order_acquire) <= size) return Status::OK();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  while (*version > 0) {
    uint64_t seq = 0;
    Status es = StreamEntrySeq(it.get(), stream, *version, &seq);  // runs: ledger_internal.h
    if (!es.ok()) return es;
    if (seq <= size) break;
    --*version;
  }
  return Status::OK();
}

// A key is answered only once the events it names are durable: it may have
// been written by a group whose sync is still running (append.cc).
Status Ledger::FindIdempotencyKey(std::string_view key, std::string* digest,
                                  std::vector<uint64_t>* seqs) {
  Status s = FindIdempotencyKeyWritten(key, digest, seqs);
  if (!s.ok() || seqs->empty()) return s;
  const uint64_t last = seqs->back();
  while (Size() < last) {
    {
      std::lock_guard<std::mutex> l(sync_mu_);
      if (!sync_error_.ok()) return sync_error_;
    }
    {
      std::lock_guard<std::mutex> l(commit_mu_);
      if (closing_)
        return Status::IOError("the ledger closed before event " + std::to_string(last) +
                               " was durable");
    }
    WaitForAppend(Size(), std::chrono::milliseconds(100));
  }
  return Status::OK();
}

// What RocksDB holds, durable or not: for the writer's own checks.
Status Ledger::FindIdempotencyKeyWritten(std::string_view key, std::string* digest,
                                         std::vector<uint64_t>* seqs) {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), idem_cf_, rocksdb::Slice(key.data(), key.size()), &v);
  if (s.IsNotFound()) return Status::NotFound("idempotency key not seen");
  if (!s.ok()) return FromRocks(s, "reading idempotency keys");
  if (v.size() != 48) {
    return Status::Corruption("idempotency record of '" + std::string(key) + "' is damaged");
  }
  merkle::Hash raw;
  std::memcpy(raw.data(), v.data(), 32);
  *digest = merkle::ToHex(raw);
  uint64_t first = keys::GetBE64(std::string_view(v).substr(32));
  uint64_t count = keys::GetBE64(std::string_view(v).substr(40));
  seqs->clear();
  for (uint64_t i = 0; i < count; ++i) seqs->push_back(first + i);
  return Status::OK();
}

Status Ledger::Get(uint64_t seq, std::string* bytes) {
  if (seq == 0 || seq > Size()) {
    return Status::NotFound("there is no event " + std::to_string(seq) + "; the ledger holds 1.." +
                            std::to_string(Size()));
  }
  EventCursor events(db_, events_cf_, rocksdb::ReadOptions());  // runs: ledger_internal.h
  std::string_view found;
  Status s = events.At(seq, &found);
  if (s.ok()) bytes->assign(found);
  return s;
}

Status Ledger::Scan(uint64_t from_seq, uint64_t limit, const EventHandler& fn) {
  uint64_t end = Size();  // inclusive; later appends are not seen
  if (from_seq == 0) from_seq = 1;
  if (limit != 0 && from_seq + limit - 1 < end) end = from_seq + limit - 1;
  if (from_seq > end) return Status::OK();
  std::string upper = keys::Seq(end + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  if (limit == 0 || limit > 4096) {
    ro.readahead_size = 2 << 20;
    ro.fill_cache = false;  // a full scan must not evict what readers need
  }
  EventCursor events(db_, events_cf_, ro);  // walks the runs in order
  for (uint64_t seq = from_seq; seq <= end; ++seq) {
    std::string_view bytes;
    Status s = events.At(seq, &bytes);
    if (!s.ok()) return s;
    if (!fn(seq, bytes)) return Status::OK();
  }
  return Status::OK();
}

Status Ledger::ScanStream(std::string_view stream, uint64_t from_version, uint64_t limit,
                          const EventHandler& fn) {
  if (from_version == 0) from_version = 1;
  std::string prefix(stream);
  prefix.push_back('\0');
  std::string upper(stream);
  upper.push_back('\1');
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_cf_));
  const uint64_t size = Size();
  uint64_t n = 0;
  // The run holding from_version, if any; else the stream's first run after
  // it (runs: ledger_internal.h). `at` is the next entry within the run.
  uint64_t first = 0, count = 0, at = 0;
  it->SeekForPrev(keys::StreamEntry(stream, from_version));
  if (StreamRunAt(*it, stream, &first, &count) && from_version - first < count) {
    at = from_version - first;
  } else {
    it->Seek(keys::StreamEntry(stream, from_version));
  }
  // The stream's entries name its events' seqs, in increasing order; one
  // cursor reads them, staying on a run while the stream's events are in it
  // and seeking only for one that is not (runs: ledger_internal.h).
  EventCursor events(db_, events_cf_, rocksdb::ReadOptions());
  while (it->Valid()) {
    if (!StreamRunAt(*it, stream, &first, &count) || count == 0) {
      return Status::Corruption("stream '" + std::string(stream) +
                                "' has an entry that is not a whole number of seqs");
    }
    if (at >= count) {
      it->Next();
      at = 0;
      continue;
    }
    if (limit != 0 && n >= limit) break;
    uint64_t seq = keys::GetBE64(AsView(it->value()).substr(8 * at));
    if (seq > size) break;  // written by a group still committing
    ++n;
    ++at;
    std::string_view bytes;
    Status s = events.At(seq, &bytes);
    if (!s.ok()) return s;
    if (!fn(seq, bytes)) return Status::OK();
  }
  if (!it->status().ok())
    return FromRocks(it->status(), "reading stream '" + std::string(stream) + "'");
  return Status::OK();
}

}  // namespace ocop::ledger
