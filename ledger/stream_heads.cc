#include "ledger/stream_heads.h"

#include <cstring>

#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "ledger/event_view.h"

namespace ocop::ledger {

using merkle::Hash;

namespace {

constexpr std::string_view kMagic = "OCOP-STREAM-HEADS-1\n";
constexpr std::string_view kExtension = "ocop-stream-heads ";
constexpr size_t kEntry = 32 + 8 + 8;

void PutBe64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

Status StreamHeads::Open(Ledger* ledger, std::unique_ptr<StreamHeads>* out,
                         uint64_t persist_every) {
  std::unique_ptr<StreamHeads> h(new StreamHeads);
  h->ledger_ = ledger;
  h->persist_every_ = persist_every;
  h->path_ = ledger->dir() + "/" + kFileName;
  Status s = h->Load(&h->current_, &h->current_size_);
  if (!s.ok()) return s;
  h->persisted_size_ = h->current_size_;
  *out = std::move(h);
  return Status::OK();
}

// A file that is missing, damaged or of a longer log than this one is
// ignored: the map is refolded from the log, which is the truth.
Status StreamHeads::Load(std::unique_ptr<StreamMap>* map, uint64_t* size) {
  *map = std::make_unique<StreamMap>();
  *size = 0;
  std::string bytes;
  Status s = ReadWholeFile(path_, &bytes);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  const size_t head = kMagic.size() + 16;
  if (bytes.size() < head + 32 || bytes.compare(0, kMagic.size(), kMagic) != 0) {
    return Status::OK();
  }
  std::string_view body(bytes.data(), bytes.size() - 32);
  Hash sum = merkle::Sha256(body);
  if (std::memcmp(sum.data(), bytes.data() + body.size(), 32) != 0) return Status::OK();
  uint64_t at = GetBe64(bytes.data() + kMagic.size());
  uint64_t count = GetBe64(bytes.data() + kMagic.size() + 8);
  if (at > ledger_->Size() || body.size() != head + count * kEntry) return Status::OK();
  auto m = std::make_unique<StreamMap>();
  for (const char* p = bytes.data() + head; p < body.data() + body.size(); p += kEntry) {
    Hash key;
    std::memcpy(key.data(), p, 32);
    m->SetKey(key, StreamHead{GetBe64(p + 32), GetBe64(p + 40)});
  }
  *map = std::move(m);
  *size = at;
  return Status::OK();
}

Status StreamHeads::Persist() {
  std::string out(kMagic);
  PutBe64(current_size_, &out);
  PutBe64(current_->streams(), &out);
  out.reserve(out.size() + current_->streams() * kEntry + 32);
  for (const auto& [key, head] : current_->leaves()) {
    out.append(reinterpret_cast<const char*>(key.data()), key.size());
    PutBe64(head.version, &out);
    PutBe64(head.seq, &out);
  }
  Hash sum = merkle::Sha256(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  Status s = WriteFileDurably(path_, out, 0644);
  if (s.ok()) persisted_size_ = current_size_;
  return s;
}

Status StreamHeads::Fold(StreamMap* map, uint64_t from, uint64_t to) {
  if (to <= from) return Status::OK();
  Status failure;
  uint64_t next = from + 1;
  Status s = ledger_->Scan(from + 1, to - from, [&](uint64_t seq, std::string_view bytes) {
    EventView v(bytes);
    if (!v.ok()) {
      failure = Status::Corruption("event " + std::to_string(seq) + ": " + v.error());
      return false;
    }
    auto e = v.event();
    map->Set(std::string_view(e.getStream().cStr(), e.getStream().size()),
             StreamHead{e.getVersion(), seq});
    ++next;
    return true;
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  folded_ += next - from - 1;
  if (next != to + 1) {
    return Status::InvalidArgument("the log has " + std::to_string(next - 1) +
                                   " events; no stream heads at size " + std::to_string(to));
  }
  return Status::OK();
}

Status StreamHeads::MapAt(uint64_t size, StreamMap** out) {
  if (size > ledger_->Size()) {
    return Status::InvalidArgument("the log has " + std::to_string(ledger_->Size()) +
                                   " events; no stream heads at size " + std::to_string(size));
  }
  if (size >= current_size_) {
    Status s = Fold(current_.get(), current_size_, size);
    if (!s.ok()) return s;
    current_size_ = size;
    *out = current_.get();
    return Status::OK();
  }
  if (!past_ || past_size_ > size) {
    Status s = Load(&past_, &past_size_);
    if (!s.ok()) return s;
    if (past_size_ > size) {
      past_ = std::make_unique<StreamMap>();
      past_size_ = 0;
    }
  }
  Status s = Fold(past_.get(), past_size_, size);
  if (!s.ok()) return s;
  past_size_ = size;
  *out = past_.get();
  return Status::OK();
}

Status StreamHeads::Root(uint64_t size, Hash* root) {
  std::lock_guard<std::mutex> l(mu_);
  StreamMap* m = nullptr;
  Status s = MapAt(size, &m);
  if (!s.ok()) return s;
  *root = m->Root();
  if (m == current_.get() && current_size_ >= persisted_size_ + persist_every_) return Persist();
  return Status::OK();
}

Status StreamHeads::Prove(uint64_t size, std::string_view stream, Hash* root, HeadProof* proof) {
  std::lock_guard<std::mutex> l(mu_);
  StreamMap* m = nullptr;
  Status s = MapAt(size, &m);
  if (!s.ok()) return s;
  *root = m->Root();
  *proof = m->Prove(stream);
  return Status::OK();
}

uint64_t StreamHeads::folded() const {
  std::lock_guard<std::mutex> l(mu_);
  return folded_;
}

std::string StreamHeadsExtension(const Hash& root) {
  return std::string(kExtension) +
         Base64(std::string_view(reinterpret_cast<const char*>(root.data()), root.size()));
}

Status StreamHeadsRootOf(const Checkpoint& c, Hash* root) {
  for (const std::string& line : c.extensions) {
    if (!line.starts_with(kExtension)) continue;
    std::string bytes;
    if (!FromBase64(std::string_view(line).substr(kExtension.size()), &bytes) ||
        bytes.size() != 32) {
      return Status::Tampered("the checkpoint's line '" + line +
                              "' is not 'ocop-stream-heads' and a base64 hash of 32 bytes");
    }
    std::memcpy(root->data(), bytes.data(), 32);
    return Status::OK();
  }
  return Status::NotFound(
      "the checkpoint commits to no stream heads (no 'ocop-stream-heads' line), so it cannot "
      "show that a stream is complete");
}

Status SignedCheckpoint(Ledger* ledger, StreamHeads* heads, const std::string& origin,
                        uint64_t size, HeadKind kind, Checkpoint* c, std::string* note) {
  SignedTreeHead head;
  Hash map_root;
  Status s = heads->Root(size, &map_root);
  if (s.ok()) s = ledger->TreeHead(size, &head, kind);
  if (!s.ok()) return s;
  c->origin = origin;
  c->size = head.size;
  c->root = head.root;
  c->extensions = {StreamHeadsExtension(map_root)};
  *note = SignCheckpoint(*c, ledger->signer());
  return Status::OK();
}

}  // namespace ocop::ledger
