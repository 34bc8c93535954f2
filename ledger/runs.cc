// Runs: the tree and streams families (ledger format 2) and the events family
// (format 3), ledger_internal.h.
#include <rocksdb/write_batch.h>

#include <algorithm>

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

namespace ocop::ledger {
namespace {

void PutBE32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetBE32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}
size_t RunHeaderBytes(size_t count) { return (8 + 4 * count + 7) / 8 * 8; }

}  // namespace

std::string* EventRuns::Buffer() {
  buffers_.push_back(std::make_unique<std::string>());
  return buffers_.back().get();
}

void EventRuns::Add(uint64_t seq, std::string_view bytes) {
  Run* run = runs_.empty() ? nullptr : &runs_.back();
  // An event extends the run when it does not start a new span and the run
  // stays within its byte budget; an event over the budget is a run of one.
  if (!run || seq % kTreeRunSpan == 0 || run->first + run->events.size() != seq ||
      run->bytes + bytes.size() > kEventRunBytes) {
    runs_.push_back(Run{seq, 0, {}});
    run = &runs_.back();
  }
  run->bytes += bytes.size();
  run->events.push_back(bytes);
}

void EventRuns::Flush(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* events) {
  std::string header;
  std::vector<rocksdb::Slice> parts;
  for (const Run& r : runs_) {
    const std::string key = keys::Seq(r.first);
    if (r.events.size() == 1) {  // a run of one is the event itself, as formats 1 and 2 kept it
      batch->Put(events, key, rocksdb::Slice(r.events[0].data(), r.events[0].size()));
      continue;
    }
    header.assign(kEventRunMark);
    PutBE32(&header, static_cast<uint32_t>(r.events.size()));
    uint32_t end = 0;
    for (std::string_view e : r.events) PutBE32(&header, end += static_cast<uint32_t>(e.size()));
    header.resize(RunHeaderBytes(r.events.size()), '\0');
    parts.assign(1, rocksdb::Slice(header));
    for (std::string_view e : r.events) parts.emplace_back(e.data(), e.size());
    rocksdb::Slice key_slice(key);
    batch->Put(events, rocksdb::SliceParts(&key_slice, 1),
               rocksdb::SliceParts(parts.data(), static_cast<int>(parts.size())));
  }
  runs_.clear();
  buffers_.clear();
}

void AppendFlat(capnp::MessageBuilder& message, std::string* out) {
  // The segment table: the count less one, each segment's size in words
  // (32-bit little-endian), padded to a whole word; then the segments.
  auto segments = message.getSegmentsForOutput();
  auto put32 = [out](uint32_t v) {
    for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
  };
  put32(static_cast<uint32_t>(segments.size() - 1));
  for (const auto& seg : segments) put32(static_cast<uint32_t>(seg.size()));
  if (segments.size() % 2 == 0) put32(0);
  for (const auto& seg : segments) {
    out->append(reinterpret_cast<const char*>(seg.begin()), seg.size() * sizeof(capnp::word));
  }
}

bool EventRun::Parse(uint64_t first, std::string_view value, std::string* why) {
  first_ = first;
  if (!value.starts_with(kEventRunMark)) {
    count_ = 1;
    ends_ = {};
    events_ = value;
    return true;
  }
  const std::string where = "the run of events stored at event " + std::to_string(first);
  if (value.size() < 8) {
    *why = where + " is cut short (" + std::to_string(value.size()) + " bytes)";
    return false;
  }
  count_ = GetBE32(value.data() + 4);
  const size_t header = RunHeaderBytes(count_);
  if (count_ < 2 || value.size() < header) {
    *why = where + " has a malformed header (" + std::to_string(count_) + " events in " +
           std::to_string(value.size()) + " bytes)";
    return false;
  }
  if ((first + count_ - 1) / kTreeRunSpan != first / kTreeRunSpan) {
    *why = where + " holds " + std::to_string(count_) + " events, across a multiple of " +
           std::to_string(kTreeRunSpan);
    return false;
  }
  ends_ = value.substr(8, 4 * count_);
  events_ = value.substr(header);
  uint32_t last = 0;
  for (uint64_t i = 0; i < count_; ++i) {
    uint32_t end = GetBE32(ends_.data() + 4 * i);
    if (end <= last || end > events_.size()) {
      *why = where + " has a malformed offset for event " + std::to_string(first + i);
      return false;
    }
    last = end;
  }
  if (last != events_.size()) {
    *why = where + " has " + std::to_string(events_.size() - last) + " bytes after its last event";
    return false;
  }
  return true;
}

std::string_view EventRun::Event(uint64_t seq) const {
  if (ends_.empty()) return events_;
  const uint64_t i = seq - first_;
  const uint32_t begin = i == 0 ? 0 : GetBE32(ends_.data() + 4 * (i - 1));
  return events_.substr(begin, GetBE32(ends_.data() + 4 * i) - begin);
}

Status EventCursor::Load(uint64_t seq) {
  on_run_ = false;
  if (!it_->status().ok()) return FromRocks(it_->status(), "reading event " + std::to_string(seq));
  if (!it_->Valid() || it_->key().size() != 8) {
    return Status::Corruption("event " + std::to_string(seq) + " is missing from the log");
  }
  std::string why;
  if (!run_.Parse(keys::GetBE64(AsView(it_->key())), AsView(it_->value()), &why)) {
    return Status::Corruption("event " + std::to_string(seq) + " cannot be read: " + why);
  }
  on_run_ = true;
  return Status::OK();
}

Status EventCursor::At(uint64_t seq, std::string_view* bytes) {
  if (on_run_ && run_.Holds(seq)) {
    *bytes = run_.Event(seq);
    return Status::OK();
  }
  if (on_run_ && seq == run_.end()) {
    // The next run must begin right after this one: one that begins inside
    // it would answer reads of events that this run also holds.
    const uint64_t before = run_.end();
    it_->Next();
    Status s = Load(seq);
    if (!s.ok()) return s;
    if (run_.first() < before) {
      on_run_ = false;
      return Status::Corruption("event " + std::to_string(seq) +
                                " is in two overlapping runs of events (one stored at event " +
                                std::to_string(run_.first()) + ")");
    }
  } else {
    it_->SeekForPrev(keys::Seq(seq));
    Status s = Load(seq);
    if (!s.ok()) return s;
  }
  if (!run_.Holds(seq)) {
    on_run_ = false;
    return Status::Corruption("event " + std::to_string(seq) + " is missing from the log");
  }
  *bytes = run_.Event(seq);
  return Status::OK();
}

Status EventCursor::Last(uint64_t* seq) {
  *seq = 0;
  it_->SeekToLast();
  if (!it_->Valid()) return FromRocks(it_->status(), "reading the last event");
  if (it_->key().size() != 8) return Status::Corruption("event key of unexpected length");
  const uint64_t first = keys::GetBE64(AsView(it_->key()));
  Status s = Load(first);
  if (!s.ok()) return s;
  *seq = run_.end() - 1;
  return Status::OK();
}

}  // namespace ocop::ledger
