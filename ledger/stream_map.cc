#include "ledger/stream_map.h"

#include <cstring>
#include <iterator>

namespace ocop::ledger {

using merkle::Hash;

namespace {

int Bit(const Hash& key, int depth) { return (key[depth / 8] >> (7 - depth % 8)) & 1; }

// The top `depth` bits of the key (depth <= 16) as an index.
size_t Prefix(const Hash& key, int depth) {
  if (depth == 0) return 0;
  return ((static_cast<size_t>(key[0]) << 8) | key[1]) >> (16 - depth);
}

void PutBe64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

Hash StreamMap::Key(std::string_view stream) { return merkle::Sha256(stream); }

Hash StreamMap::LeafHash(const Hash& key, const StreamHead& head) {
  std::string buf;
  buf.reserve(49);
  buf.push_back('\x02');
  buf.append(reinterpret_cast<const char*>(key.data()), key.size());
  PutBe64(head.version, &buf);
  PutBe64(head.seq, &buf);
  return merkle::Sha256(buf);
}

Hash StreamMap::NodeHash(const Hash& left, const Hash& right) {
  char buf[65];
  buf[0] = '\x03';
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return merkle::Sha256(std::string_view(buf, sizeof buf));
}

StreamMap::StreamMap() : memo_(kMemoDepth + 1), memo_ok_(kMemoDepth + 1) {
  for (int d = 0; d <= kMemoDepth; ++d) {
    memo_[d].resize(size_t{1} << d);
    memo_ok_[d].assign(size_t{1} << d, false);
  }
}

void StreamMap::SetKey(const Hash& key, const StreamHead& head) {
  leaves_[key] = head;
  for (int d = 0; d <= kMemoDepth; ++d) memo_ok_[d][Prefix(key, d)] = false;
}

StreamHead StreamMap::Get(std::string_view stream) const {
  auto it = leaves_.find(Key(stream));
  return it == leaves_.end() ? StreamHead{} : it->second;
}

// The first leaf of [lo, hi) whose bit `depth` is 1. Every key of the range
// shares its first `depth` bits, so the keys with bit 0 come first.
StreamMap::It StreamMap::Split(int depth, It lo, It hi) const {
  Hash k = lo->first;
  k[depth / 8] |= static_cast<uint8_t>(0x80 >> (depth % 8));
  k[depth / 8] &= static_cast<uint8_t>(0xFF00 >> (depth % 8 + 1));
  for (int i = depth / 8 + 1; i < 32; ++i) k[i] = 0;
  // Keys past the range have a larger prefix, so they sort after k too: the
  // answer is hi when no key of the range has the bit.
  (void)hi;
  return leaves_.lower_bound(k);
}

Hash StreamMap::Subtree(int depth, It lo, It hi) {
  if (lo == hi) return Hash{};
  if (std::next(lo) == hi) return LeafHash(lo->first, lo->second);
  const bool memo = depth <= kMemoDepth;
  const size_t at = memo ? Prefix(lo->first, depth) : 0;
  if (memo && memo_ok_[depth][at]) return memo_[depth][at];
  It mid = Split(depth, lo, hi);
  Hash h = NodeHash(Subtree(depth + 1, lo, mid), Subtree(depth + 1, mid, hi));
  if (memo) {
    memo_[depth][at] = h;
    memo_ok_[depth][at] = true;
  }
  return h;
}

Hash StreamMap::Root() { return Subtree(0, leaves_.begin(), leaves_.end()); }

HeadProof StreamMap::Prove(std::string_view stream) {
  const Hash key = Key(stream);
  HeadProof p;
  It lo = leaves_.begin(), hi = leaves_.end();
  for (int depth = 0;; ++depth) {
    if (lo == hi) {
      p.end = HeadProof::End::kEmpty;
      return p;
    }
    if (std::next(lo) == hi) {
      if (lo->first == key) {
        p.end = HeadProof::End::kHead;
        p.head = lo->second;
      } else {
        p.end = HeadProof::End::kOther;
        p.other_key = lo->first;
        p.other = lo->second;
      }
      return p;
    }
    It mid = Split(depth, lo, hi);
    if (Bit(key, depth)) {
      p.siblings.push_back(Subtree(depth + 1, lo, mid));
      lo = mid;
    } else {
      p.siblings.push_back(Subtree(depth + 1, mid, hi));
      hi = mid;
    }
  }
}

Status VerifyHeadProof(std::string_view stream, const HeadProof& p, const Hash& root,
                       StreamHead* head) {
  const Hash key = StreamMap::Key(stream);
  const size_t depth = p.siblings.size();
  if (depth > 256) return Status::Tampered("the stream-head proof is longer than 256 levels");
  Hash h{};
  *head = StreamHead{};
  switch (p.end) {
    case HeadProof::End::kHead:
      if (p.head.version == 0) return Status::Tampered("the stream-head proof names version 0");
      h = StreamMap::LeafHash(key, p.head);
      *head = p.head;
      break;
    case HeadProof::End::kEmpty:
      break;
    case HeadProof::End::kOther:
      if (p.other_key == key) {
        return Status::Tampered("the stream-head proof shows '" + std::string(stream) +
                                "' as another stream");
      }
      for (size_t d = 0; d < depth; ++d) {
        if (Bit(p.other_key, d) != Bit(key, d)) {
          return Status::Tampered("the stream-head proof's other leaf is not on the path of '" +
                                  std::string(stream) + "'");
        }
      }
      h = StreamMap::LeafHash(p.other_key, p.other);
      break;
  }
  for (size_t i = depth; i-- > 0;) {
    h = Bit(key, i) ? StreamMap::NodeHash(p.siblings[i], h) : StreamMap::NodeHash(h, p.siblings[i]);
  }
  if (h != root) {
    return Status::Tampered("the head of '" + std::string(stream) +
                            "' is not the one the signed stream-heads root commits to");
  }
  return Status::OK();
}

}  // namespace ocop::ledger
