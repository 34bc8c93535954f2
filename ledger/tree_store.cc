// The RFC 6962 tree as stored: heads, proofs, and verifying every event.
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

Status Ledger::TreeReader::Node(int level, uint64_t index, merkle::Hash* out) {
  if (!it_) it_.reset(l_->db_->NewIterator(rocksdb::ReadOptions(), l_->tree_cf_));
  // The run holding the subtree is the last key at or before its own.
  it_->SeekForPrev(keys::TreeNode(level, index));
  if (!it_->status().ok()) return FromRocks(it_->status(), "reading the hash tree");
  bool malformed = false;
  const char* h = HashInRun(*it_, level, index, &malformed);
  if (malformed) {
    return Status::Corruption("hash tree node (level " + std::to_string(level) + ", index " +
                              std::to_string(index) + ") has " +
                              std::to_string(it_->value().size()) + " bytes, not a multiple of 32");
  }
  if (!h) {
    return Status::Corruption("hash tree node (level " + std::to_string(level) + ", index " +
                              std::to_string(index) + ") is missing");
  }
  std::memcpy(out->data(), h, 32);
  return Status::OK();
}

Status Ledger::TreeReader::UpgradeFormat(Ledger* l) {
  std::string format;
  rocksdb::Status s = l->db_->Get(rocksdb::ReadOptions(), "format", &format);
  if (!s.ok()) return FromRocks(s, "reading the ledger's format marker");
  if (format != "1" && format != "2") return Status::OK();
  // Format 1's one subtree per key is a run of one, and formats 1 and 2's one
  // event per key is a run of one too: the data stays as it is, only the
  // marker moves, synced before the first run is written.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(l->db_->Put(wo, "format", std::to_string(keys::kFormatVersion)),
                   "marking the ledger as format " + std::to_string(keys::kFormatVersion));
}

Status Ledger::TreeHead(uint64_t size, SignedTreeHead* head, HeadKind kind) {
  if (size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(size));
  }
  TreeReader reader(this);
  Status s = merkle::RootAt(reader, size, &head->root);
  if (!s.ok()) return s;
  // Kept before it is given out: a head once shown is never forgotten.
  if (size > 0) s = heads_->Record(kind, size, head->root);
  if (!s.ok()) return s;
  head->size = size;
  head->signature = signer_->Sign(TreeHeadMessage(size, head->root));
  head->key_id_hex = signer_->key_id_hex();
  return Status::OK();
}

Status Ledger::RecordHead(HeadKind kind, uint64_t size, const merkle::Hash& root) {
  if (size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(size));
  }
  TreeReader reader(this);
  merkle::Hash mine;
  Status s = merkle::RootAt(reader, size, &mine);
  if (!s.ok()) return s;
  if (mine != root) {
    return Status::Tampered("the head of size " + std::to_string(size) + " has root " +
                            merkle::ToHex(root) + " but this log's tree has " +
                            merkle::ToHex(mine));
  }
  return heads_->Record(kind, size, root);
}

Status Ledger::RootWith(const std::vector<std::string>& events, merkle::Hash* root) {
  TreeReader reader(this);
  merkle::Frontier f;
  Status s = merkle::Frontier::Load(reader, Size(), &f);
  if (!s.ok()) return s;
  for (const std::string& e : events) f.Append(merkle::LeafHash(e), nullptr);
  *root = f.Root();
  return Status::OK();
}

Status Ledger::Inclusion(uint64_t seq, uint64_t size, InclusionProof* proof) {
  if (size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(size));
  }
  if (seq == 0 || seq > size) {
    return Status::NotFound("event " + std::to_string(seq) + " is not in the tree of size " +
                            std::to_string(size) + " (it holds events 1.." + std::to_string(size) +
                            ")");
  }
  Status s = Get(seq, &proof->leaf);
  if (!s.ok()) return s;
  TreeReader reader(this);
  s = merkle::InclusionPath(reader, seq - 1, size, &proof->path);
  if (s.ok()) s = merkle::RootAt(reader, size, &proof->root);
  if (!s.ok()) return s;
  proof->seq = seq;
  proof->size = size;
  proof->leaf_hash = merkle::LeafHash(proof->leaf);
  return Status::OK();
}

Status Ledger::Consistency(uint64_t from_size, uint64_t to_size, std::vector<merkle::Hash>* path) {
  if (to_size > Size()) {
    return Status::NotFound("the ledger holds " + std::to_string(Size()) +
                            " events; there is no tree of size " + std::to_string(to_size));
  }
  TreeReader reader(this);
  return merkle::ConsistencyPath(reader, from_size, to_size, path);
}

Status Ledger::Verify(VerifyResult* result, const std::function<void(uint64_t)>& progress) {
  *result = VerifyResult();
  const uint64_t size = Size();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 2 << 20;
  std::string upper = keys::Seq(size + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions events_ro = ro;
  events_ro.iterate_upper_bound = &upper_slice;

  // Every stored subtree is checked as the recomputation completes it. Nodes
  // of one level are completed in index order, so one iterator per level
  // walks the tree column family sequentially.
  std::vector<std::unique_ptr<rocksdb::Iterator>> levels;
  auto fail = [&](uint64_t seq, std::string problem) {
    if (result->first_bad_seq == 0) {
      result->first_bad_seq = seq;
      result->problem = std::move(problem);
    }
  };
  auto check_node = [&](int level, uint64_t index, const merkle::Hash& h) {
    if (result->first_bad_seq != 0) return;
    if (levels.size() <= static_cast<size_t>(level)) levels.resize(level + 1);
    auto& it = levels[level];
    bool malformed = false;
    bool moved = false;
    if (!it) {
      it.reset(db_->NewIterator(ro, tree_cf_));
      it->SeekForPrev(keys::TreeNode(level, index));
    } else if (!HashInRun(*it, level, index, &malformed) && !malformed) {
      it->Next();  // the level's next run, which must start at this subtree
      moved = true;
    }
    const char* stored = HashInRun(*it, level, index, &malformed);
    uint64_t first = (index << level) + 1;
    if (moved && it->Valid() && it->key().size() == 9 &&
        static_cast<uint8_t>(it->key()[0]) == level &&
        keys::GetBE64(AsView(it->key()).substr(1)) < index) {
      // The level's next run starts before the subtrees checked so far end:
      // a proof could be answered from it with hashes not checked here.
      fail(first, "the hash tree holds overlapping runs of level " + std::to_string(level) +
                      " before index " + std::to_string(index));
      return;
    }
    if (!stored && !malformed) {
      fail(first, "the hash tree has no node for level " + std::to_string(level) + ", index " +
                      std::to_string(index));
      return;
    }
    if (!stored || std::memcmp(stored, h.data(), 32) != 0) {
      if (level == 0) {
        fail(first, "event " + std::to_string(first) + " does not match its recorded leaf hash");
      } else {
        fail(first, "the recorded hash of events " + std::to_string(first) + ".." +
                        std::to_string((index + 1) << level) + " does not match them");
      }
    }
  };

  // Two stages on two threads: this one reads the log and folds the leaf
  // hashes into the tree, checking stored subtrees; a helper decodes and
  // hashes each chunk of events while the next chunk is read. Findings are
  // reported in sequence order, so the first bad event is still the first.
  struct Chunk {
    uint64_t first_seq = 0;
    std::string bytes;         // the events, back to back
    std::vector<size_t> ends;  // end offset of each event in bytes
    std::vector<merkle::Hash> leaves;
    std::vector<std::string> problems;  // per event; empty when it decodes
  };
  auto hash_chunk = [](Chunk c) {
    c.leaves.resize(c.ends.size());
    c.problems.resize(c.ends.size());
    size_t begin = 0;
    for (size_t i = 0; i < c.ends.size(); ++i) {
      std::string_view bytes(c.bytes.data() + begin, c.ends[i] - begin);
      begin = c.ends[i];
      uint64_t seq = c.first_seq + i;
      EventView view(bytes);
      if (!view.ok()) {
        c.problems[i] = "event " + std::to_string(seq) + " cannot be decoded: " + view.error();
      } else if (view.event().getSeq() != seq) {
        c.problems[i] = "event " + std::to_string(seq) + " says it is event " +
                        std::to_string(view.event().getSeq());
      }
      c.leaves[i] = merkle::LeafHash(bytes);
    }
    return c;
  };
  merkle::Frontier frontier;
  uint64_t folded = 0;
  auto fold = [&](const Chunk& c) {
    for (size_t i = 0; i < c.leaves.size() && result->first_bad_seq == 0; ++i) {
      uint64_t seq = c.first_seq + i;
      if (!c.problems[i].empty()) fail(seq, c.problems[i]);
      frontier.Append(c.leaves[i], check_node);
      ++folded;
      if (progress && (seq & 0xFFFFF) == 0) progress(seq);
    }
  };
  constexpr size_t kChunkEvents = 4096;
  EventCursor events(db_, events_cf_, events_ro);  // walks the runs in order
  std::future<Chunk> pending;
  uint64_t expect = 1;
  Status unreadable;  // why event `expect` could not be read, if one could not
  while (unreadable.ok() && result->first_bad_seq == 0 && expect <= size) {
    Chunk c;
    c.first_seq = expect;
    for (; expect <= size && c.ends.size() < kChunkEvents; ++expect) {
      std::string_view bytes;
      unreadable = events.At(expect, &bytes);
      if (!unreadable.ok()) break;
      c.bytes.append(bytes);
      c.ends.push_back(c.bytes.size());
    }
    if (pending.valid()) fold(pending.get());
    if (c.ends.empty()) break;
    pending = std::async(std::launch::async, hash_chunk, std::move(c));
  }
  if (pending.valid()) fold(pending.get());
  if (!unreadable.ok()) {
    if (!unreadable.IsCorruption()) return unreadable;
    fail(expect, unreadable.message());
  }
  result->checked = folded;
  result->root = frontier.Root();
  if (result->first_bad_seq == 0) {
    // The log against what was signed: shorter, or another tree.
    for (const auto& [kind, head] : heads_->All()) {
      if (head.size > size) {
        fail(size + 1, "the log ends at event " + std::to_string(size) + " but a " + kind +
                           " of size " + std::to_string(head.size) + " was signed: " +
                           std::to_string(head.size - size) + " acknowledged events are lost");
        break;
      }
      merkle::Hash root;
      TreeReader reader(this);
      Status rs = merkle::RootAt(reader, head.size, &root);
      if (!rs.ok() || root != head.root) {
        fail(head.size, "the log holds " + std::to_string(size) + " events but its tree of size " +
                            std::to_string(head.size) + " is not the " + kind + " signed");
        break;
      }
    }
  }
  if (progress) progress(result->checked);
  if (result->first_bad_seq != 0) {
    return Status::Tampered("event " + std::to_string(result->first_bad_seq) +
                            " fails verification: " + result->problem);
  }
  return Status::OK();
}

}  // namespace ocop::ledger
