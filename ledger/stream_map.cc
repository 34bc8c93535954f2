// OpenSSL 3 marks the low-level SHA-256 functions deprecated but keeps them;
// see Digest below for why the map uses them.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "ledger/stream_map.h"

#include <openssl/sha.h>

#include <algorithm>
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

void PutBe64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * (7 - i)));
}

// SHA-256 of a short input. The map hashes inputs of one or two blocks (a
// name, a leaf of 49 bytes, a node of 65) several times per event folded, and
// OpenSSL 3's EVP layer (merkle::Sha256) costs as much per digest as
// compressing a block: on this project's machine 460 ns against 210 ns for a
// leaf, 620 against 350 for a node. The low-level functions hash the same
// bytes the same way (SHA-NI when the CPU has it), without the provider
// dispatch; tests/stream_heads_test.cc checks them against merkle::Sha256.
Hash Digest(const void* data, size_t size) {
  Hash out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, size);
  SHA256_Final(out.data(), &ctx);
  return out;
}

}  // namespace

Hash StreamMap::Key(std::string_view stream) { return Digest(stream.data(), stream.size()); }

Hash StreamMap::LeafHash(const Hash& key, const StreamHead& head) {
  char buf[49];
  buf[0] = '\x02';
  std::memcpy(buf + 1, key.data(), 32);
  PutBe64(head.version, buf + 33);
  PutBe64(head.seq, buf + 41);
  return Digest(buf, sizeof buf);
}

Hash StreamMap::NodeHash(const Hash& left, const Hash& right) {
  char buf[65];
  buf[0] = '\x03';
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Digest(buf, sizeof buf);
}

StreamMap::StreamMap()
    : buckets_(size_t{1} << kTop),
      hash_(kTop + 1),
      count_(kTop + 1),
      dirty_flag_(size_t{1} << kTop, false) {
  // Every node empty: hash 0, no leaf.
  for (int d = 0; d <= kTop; ++d) {
    hash_[d].assign(size_t{1} << d, Hash{});
    count_[d].assign(size_t{1} << d, 0);
  }
}

namespace {

bool KeyLess(const Hash& a, const Hash& b) { return a < b; }

}  // namespace

void StreamMap::SetKey(const Hash& key, const StreamHead& head) {
  const size_t b = Prefix(key, kTop);
  std::vector<Leaf>& bucket = buckets_[b];
  auto it = std::lower_bound(bucket.begin(), bucket.end(), key,
                             [](const Leaf& l, const Hash& k) { return KeyLess(l.key, k); });
  if (it != bucket.end() && it->key == key) {
    if (it->head == head) return;
    it->head = head;
    it->stale = true;
  } else {
    bucket.insert(it, Leaf{key, head, {}, true});
    ++streams_;
  }
  if (!dirty_flag_[b]) {
    dirty_flag_[b] = true;
    dirty_.push_back(static_cast<uint32_t>(b));
  }
}

StreamHead StreamMap::GetKey(const Hash& key) const {
  const std::vector<Leaf>& bucket = buckets_[Prefix(key, kTop)];
  auto it = std::lower_bound(bucket.begin(), bucket.end(), key,
                             [](const Leaf& l, const Hash& k) { return KeyLess(l.key, k); });
  return it != bucket.end() && it->key == key ? it->head : StreamHead{};
}

void StreamMap::ForEach(const std::function<void(const Hash&, const StreamHead&)>& fn) const {
  for (const auto& bucket : buckets_) {
    for (const Leaf& l : bucket) fn(l.key, l.head);
  }
}

// Below the kept levels: every key of [lo, hi) shares its first `depth`
// bits, so those with bit `depth` 0 come first.
Hash StreamMap::Subtree(int depth, It lo, It hi) {
  if (lo == hi) return Hash{};
  if (std::next(lo) == hi) return lo->hash;
  It mid = std::partition_point(lo, hi, [depth](const Leaf& l) { return !Bit(l.key, depth); });
  return NodeHash(Subtree(depth + 1, lo, mid), Subtree(depth + 1, mid, hi));
}

void StreamMap::Refresh() {
  if (dirty_.empty()) return;
  std::sort(dirty_.begin(), dirty_.end());
  for (uint32_t b : dirty_) {
    std::vector<Leaf>& bucket = buckets_[b];
    for (Leaf& l : bucket) {
      if (!l.stale) continue;
      l.hash = LeafHash(l.key, l.head);
      l.stale = false;
    }
    hash_[kTop][b] = Subtree(kTop, bucket.begin(), bucket.end());
    count_[kTop][b] = static_cast<uint32_t>(bucket.size());
    dirty_flag_[b] = false;
  }
  // Up the kept levels, each parent once: the dirty indices stay sorted, so
  // siblings' parents are adjacent.
  std::vector<uint32_t> level = std::move(dirty_);
  dirty_.clear();
  for (int d = kTop - 1; d >= 0; --d) {
    size_t n = 0;
    for (uint32_t i : level) {
      const uint32_t parent = i >> 1;
      if (n > 0 && level[n - 1] == parent) continue;
      level[n++] = parent;
      const uint32_t l = parent << 1, r = l | 1;
      const uint32_t cl = count_[d + 1][l], cr = count_[d + 1][r];
      count_[d][parent] = cl + cr;
      // A subtree of one leaf is that leaf's hash, at any depth.
      hash_[d][parent] = cl + cr == 0   ? Hash{}
                         : cl + cr == 1 ? (cl ? hash_[d + 1][l] : hash_[d + 1][r])
                                        : NodeHash(hash_[d + 1][l], hash_[d + 1][r]);
    }
    level.resize(n);
  }
}

Hash StreamMap::Root() {
  Refresh();
  return hash_[0][0];
}

HeadProof StreamMap::Prove(std::string_view stream) {
  Refresh();
  const Hash key = Key(stream);
  HeadProof p;
  // The lone leaf of a collapsed node, or nothing.
  auto end_at = [&](It lo, It hi) {
    if (lo == hi) {
      p.end = HeadProof::End::kEmpty;
    } else if (lo->key == key) {
      p.end = HeadProof::End::kHead;
      p.head = lo->head;
    } else {
      p.end = HeadProof::End::kOther;
      p.other_key = lo->key;
      p.other = lo->head;
    }
    return p;
  };
  // The kept levels: a node of two or more leaves gives its other child's
  // hash; the first of at most one ends the proof.
  for (int depth = 0; depth < kTop; ++depth) {
    const size_t at = Prefix(key, depth);
    if (count_[depth][at] <= 1) {
      // Its lone leaf, if any, is in one of the buckets below it.
      const size_t first = at << (kTop - depth), last = (at + 1) << (kTop - depth);
      for (size_t b = first; b < last; ++b) {
        if (!buckets_[b].empty()) return end_at(buckets_[b].begin(), buckets_[b].end());
      }
      return end_at(buckets_[first].end(), buckets_[first].end());
    }
    p.siblings.push_back(hash_[depth + 1][Prefix(key, depth + 1) ^ 1]);
  }
  // Within the key's bucket.
  const std::vector<Leaf>& bucket = buckets_[Prefix(key, kTop)];
  It lo = bucket.begin(), hi = bucket.end();
  for (int depth = kTop;; ++depth) {
    if (lo == hi || std::next(lo) == hi) return end_at(lo, hi);
    It mid = std::partition_point(lo, hi, [depth](const Leaf& l) { return !Bit(l.key, depth); });
    if (Bit(key, depth)) {
      p.siblings.push_back(Subtree(depth + 1, lo, mid));
      lo = mid;
    } else {
      p.siblings.push_back(Subtree(depth + 1, mid, hi));
      hi = mid;
    }
  }
}

std::string_view StreamKeys::NameOf(const Slot& s) const {
  if (s.size <= kInline) return {s.name, s.size};
  return {long_names_.data() + s.at, s.size};
}

void StreamKeys::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.size == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].size != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

const Hash& StreamKeys::Of(std::string_view stream) {
  const uint64_t h = std::hash<std::string_view>{}(stream);
  if (!slots_.empty()) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.size == 0) break;
      if (s.hash == h && NameOf(s) == stream) return s.key;
    }
  }
  if (used_ >= limit_) {
    slots_.clear();
    long_names_.clear();
    used_ = 0;
  }
  if ((used_ + 1) * 2 > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].size != 0) i = (i + 1) & mask;
  Slot& s = slots_[i];
  s.hash = h;
  s.size = static_cast<uint32_t>(stream.size());
  if (stream.size() <= kInline) {
    std::memcpy(s.name, stream.data(), stream.size());
  } else {
    s.at = static_cast<uint32_t>(long_names_.size());
    long_names_.append(stream);
  }
  s.key = StreamMap::Key(stream);
  ++used_;
  return s.key;
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
