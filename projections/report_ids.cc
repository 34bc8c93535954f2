#include "projections/report_ids.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>

#include "projections/records.h"

#include "projections/keys.h"
#include "projections/projections_internal.h"

namespace ocop::projections {

size_t KindIndex(IdKind kind) {
  for (size_t i = 0; i < kIdKindCount; ++i) {
    if (kIdKinds[i] == kind) return i;
  }
  return 0;
}

std::string IdKey(IdKind kind, std::string_view text) {
  std::string key(1, static_cast<char>(kind));
  key.append(text);
  return key;
}

std::string IdNumberKey(IdKind kind, uint32_t number) {
  std::string key(1, static_cast<char>(static_cast<char>(kind) - 'a' + 'A'));
  PutBE32(&key, number);
  return key;
}

Status IdNumbers::Number(IdKind kind, std::string_view text, bool bulk, Pending* pending,
                         uint32_t* out) {
  const size_t k = KindIndex(kind);
  if (auto it = pending->by_text[k].find(text); it != pending->by_text[k].end()) {
    *out = it->second;
    return Status::OK();
  }
  if (auto it = known_[k].find(text); it != known_[k].end()) {
    *out = it->second;
    return Status::OK();
  }
  if (!bulk) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), family_, IdKey(kind, text), &v);
    if (s.ok() && v.size() == 4) {
      *out = GetBE32(v);
      known_[k].emplace(std::string(text), *out);
      return Status::OK();
    }
    if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the report's ids");
  }
  uint32_t next = 0;
  Status s = NextFree(kind, bulk, &next);
  if (!s.ok()) return s;
  *out = next + static_cast<uint32_t>(pending->by_text[k].size());
  auto added = pending->by_text[k].emplace(std::string(text), *out).first;
  pending->in_order.emplace_back(kind, &added->first);
  return Status::OK();
}

Status IdNumbers::NextFree(IdKind kind, bool bulk, uint32_t* out) {
  std::optional<uint32_t>& next = next_[KindIndex(kind)];
  if (!next) {
    next = 0;
    if (!bulk) {
      // The highest number written: the last key of the kind's reverse range.
      const std::string last = IdNumberKey(kind, UINT32_MAX);
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_));
      it->SeekForPrev(last);
      if (it->Valid() && it->key().size() == 5 && it->key()[0] == last[0]) {
        next = GetBE32(std::string_view(it->key().data() + 1, 4)) + 1;
      } else if (!it->status().ok()) {
        Status s = FromRocks(it->status(), "reading the report's ids");
        next.reset();
        return s;
      }
    }
  }
  *out = *next;
  return Status::OK();
}

void IdNumbers::Write(const Pending& pending, rocksdb::WriteBatch* wb) const {
  std::string number;
  for (const auto& [kind, text] : pending.in_order) {
    const uint32_t n = pending.by_text[KindIndex(kind)].find(*text)->second;
    number.clear();
    PutBE32(&number, n);
    wb->Put(family_, IdKey(kind, *text), number);
    wb->Put(family_, IdNumberKey(kind, n), *text);
  }
}

void IdNumbers::Commit(Pending* pending) {
  for (size_t k = 0; k < kIdKindCount; ++k) {
    if (pending->by_text[k].empty()) continue;
    *next_[k] += static_cast<uint32_t>(pending->by_text[k].size());
    known_[k].merge(pending->by_text[k]);
  }
  *pending = Pending();
}

}  // namespace ocop::projections
