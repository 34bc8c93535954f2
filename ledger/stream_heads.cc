#include "ledger/stream_heads.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>

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

// The persisted map's bytes (kMagic, be64 size, be64 count, count sorted
// entries of key, be64 version, be64 seq, SHA-256 of all before it), read
// strictly: Corruption saying what is wrong.
Status ParseHeadsFile(std::string_view bytes, std::unique_ptr<StreamMap>* map, uint64_t* size) {
  const size_t head = kMagic.size() + 16;
  if (bytes.size() < head + 32 || bytes.compare(0, kMagic.size(), kMagic) != 0) {
    return Status::Corruption("it does not begin with " + std::string(kMagic.substr(0, 19)) +
                              " and a size");
  }
  std::string_view body = bytes.substr(0, bytes.size() - 32);
  Hash sum = merkle::Sha256(body);
  if (std::memcmp(sum.data(), bytes.data() + body.size(), 32) != 0) {
    return Status::Corruption("its checksum does not match its contents (damaged or edited)");
  }
  const uint64_t at = GetBe64(bytes.data() + kMagic.size());
  const uint64_t count = GetBe64(bytes.data() + kMagic.size() + 8);
  if ((body.size() - head) % kEntry != 0 || (body.size() - head) / kEntry != count) {
    return Status::Corruption("it says " + std::to_string(count) + " streams but holds " +
                              std::to_string((body.size() - head) / kEntry));
  }
  auto m = std::make_unique<StreamMap>();
  const Hash* previous = nullptr;
  Hash key;
  for (const char* p = bytes.data() + head; p < body.data() + body.size(); p += kEntry) {
    Hash k;
    std::memcpy(k.data(), p, 32);
    StreamHead h{GetBe64(p + 32), GetBe64(p + 40)};
    if ((previous && !(*previous < k)) || h.version == 0 || h.seq == 0 || h.seq > at) {
      return Status::Corruption("the entry of key " + merkle::ToHex(k) +
                                " is out of order, of version 0 or past the size " +
                                std::to_string(at));
    }
    m->SetKey(k, h);
    key = k;
    previous = &key;
  }
  *map = std::move(m);
  *size = at;
  return Status::OK();
}

// Folds events from+1..to of the log into `map`, reading them back and
// decoding each one's stream; `named`, if set, is told each event's stream
// and key. *folded counts the events read.
Status FoldLog(Ledger* ledger, StreamMap* map, StreamKeys* keys, uint64_t from, uint64_t to,
               uint64_t* folded,
               const std::function<void(const Hash&, std::string_view)>& named = {}) {
  if (to <= from) return Status::OK();
  Status failure;
  uint64_t next = from + 1;
  Status s = ledger->Scan(from + 1, to - from, [&](uint64_t seq, std::string_view bytes) {
    EventView v(bytes);
    if (!v.ok()) {
      failure = Status::Corruption("event " + std::to_string(seq) + ": " + v.error());
      return false;
    }
    auto e = v.event();
    const std::string_view stream(e.getStream().cStr(), e.getStream().size());
    const Hash& key = keys->Of(stream);
    map->SetKey(key, StreamHead{e.getVersion(), seq});
    if (named) named(key, stream);
    ++next;
    return true;
  });
  if (!s.ok()) return s;
  if (!failure.ok()) return failure;
  *folded += next - from - 1;
  if (next != to + 1) {
    return Status::InvalidArgument("the log has " + std::to_string(next - 1) +
                                   " events; no stream heads at size " + std::to_string(to));
  }
  return Status::OK();
}

}  // namespace

// The groups the appender told of (Ledger::SetWriteObserver), in seq order,
// until a fold takes them. A group is one Ledger group commit: the (stream,
// version, seq) of each of its events, the names copied into one string.
struct StreamHeads::Feed {
  struct Event {
    uint32_t name_at = 0, name_size = 0;
    StreamHead head;
  };
  struct Group {
    uint64_t first = 0, last = 0;  // seqs
    std::string names;
    std::vector<Event> events;
  };

  // On the appender's thread: a copy of the group, queued.
  void Told(const std::vector<WrittenEvent>& written) {
    if (written.empty()) return;
    Group g;
    g.first = written.front().seq;
    g.last = written.back().seq;
    g.events.reserve(written.size());
    size_t bytes = 0;
    for (const WrittenEvent& e : written) bytes += e.stream.size();
    g.names.reserve(bytes);
    for (const WrittenEvent& e : written) {
      g.events.push_back(Event{static_cast<uint32_t>(g.names.size()),
                               static_cast<uint32_t>(e.stream.size()),
                               {e.version, e.seq}});
      g.names.append(e.stream);
    }
    std::lock_guard<std::mutex> l(mu);
    if (closed) return;
    // Seqs told again (a group written but never made durable, its numbers
    // reused) replace what was told of them.
    while (!groups.empty() && groups.back().last >= g.first) {
      events -= groups.back().events.size();
      groups.pop_back();
    }
    events += g.events.size();
    groups.push_back(std::move(g));
    while (events > kFeedLimit) {
      events -= groups.front().events.size();
      groups.pop_front();
    }
  }

  // Moves out the groups that continue a map folded to `at` up to `to`
  // without a gap, and says where the events the feed does not hold end:
  // *read_back_to is the last seq past `at` (after the groups taken) to
  // read back from the log before the feed can serve again.
  void Take(uint64_t at, uint64_t to, std::vector<Group>* taken, uint64_t* read_back_to) {
    std::lock_guard<std::mutex> l(mu);
    while (!groups.empty() && groups.front().last <= at) {
      events -= groups.front().events.size();
      groups.pop_front();
    }
    while (!groups.empty() && groups.front().first == at + 1 && groups.front().last <= to) {
      at = groups.front().last;
      events -= groups.front().events.size();
      taken->push_back(std::move(groups.front()));
      groups.pop_front();
    }
    *read_back_to = to;
    if (groups.empty()) return;
    const Group& next = groups.front();
    if (next.first > at + 1) {
      *read_back_to = std::min(to, next.first - 1);  // a gap before it
    } else if (next.first <= at) {
      *read_back_to = std::min(to, next.last);  // it straddles `at`
    }                                           // else it straddles `to`
  }

  void Close() {
    std::lock_guard<std::mutex> l(mu);
    closed = true;
    groups.clear();
    events = 0;
  }

  std::mutex mu;
  bool closed = false;
  std::deque<Group> groups;
  uint64_t events = 0;  // in groups
};

StreamHeads::~StreamHeads() {
  if (feed_) feed_->Close();
}

Status StreamHeads::Open(Ledger* ledger, std::unique_ptr<StreamHeads>* out,
                         uint64_t persist_every) {
  std::unique_ptr<StreamHeads> h(new StreamHeads);
  h->ledger_ = ledger;
  h->persist_every_ = persist_every;
  h->path_ = ledger->dir() + "/" + kFileName;
  Status s = h->Load(&h->current_, &h->current_size_);
  if (!s.ok()) return s;
  h->persisted_size_ = h->current_size_;
  if (!ledger->secondary()) {
    // The observer holds the feed, not the StreamHeads, so that it outlives
    // neither: a closed feed ignores what it is told.
    h->feed_ = std::make_shared<Feed>();
    ledger->SetWriteObserver(
        [feed = h->feed_](const std::vector<WrittenEvent>& written) { feed->Told(written); });
  }
  // The size of the latest checkpoint kept, if it reads as one.
  std::string latest;
  note::Note n;
  Checkpoint c;
  if (ReadWholeFile(ledger->dir() + "/" + kLatestFileName, &latest).ok() &&
      note::ParseNote(latest, &n).ok() && ParseCheckpoint(n.text, &c).ok()) {
    h->latest_size_ = c.size;
  }
  *out = std::move(h);
  return Status::OK();
}

// A file that is missing, damaged or of a longer log than this one is
// ignored: the map is refolded from the log, which is the truth (`ocop
// verify` is what reports such a file: AuditStreamHeads).
Status StreamHeads::Load(std::unique_ptr<StreamMap>* map, uint64_t* size) {
  *map = std::make_unique<StreamMap>();
  *size = 0;
  std::string bytes;
  Status s = ReadWholeFile(path_, &bytes);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  std::unique_ptr<StreamMap> m;
  uint64_t at = 0;
  if (!ParseHeadsFile(bytes, &m, &at).ok() || at > ledger_->Size()) return Status::OK();
  *map = std::move(m);
  *size = at;
  return Status::OK();
}

Status StreamHeads::Persist() {
  std::string out(kMagic);
  PutBe64(current_size_, &out);
  PutBe64(current_->streams(), &out);
  out.reserve(out.size() + current_->streams() * kEntry + 32);
  current_->ForEach([&](const Hash& key, const StreamHead& head) {
    out.append(reinterpret_cast<const char*>(key.data()), key.size());
    PutBe64(head.version, &out);
    PutBe64(head.seq, &out);
  });
  Hash sum = merkle::Sha256(out);
  out.append(reinterpret_cast<const char*>(sum.data()), sum.size());
  Status s = WriteFileDurably(path_, out, 0644);
  if (s.ok()) persisted_size_ = current_size_;
  return s;
}

Status StreamHeads::Fold(StreamMap* map, uint64_t from, uint64_t to) {
  return FoldLog(ledger_, map, &keys_, from, to, &folded_);
}

// Only groups up to `to` <= Size() are taken, so only durable events reach
// the map; what the feed misses is read back, so the map at `to` is the same
// whichever way each event came.
Status StreamHeads::FoldCurrent(uint64_t to) {
  std::vector<Feed::Group> taken;
  while (current_size_ < to) {
    uint64_t read_back_to = to;
    if (feed_) {
      taken.clear();
      feed_->Take(current_size_, to, &taken, &read_back_to);
      for (const Feed::Group& g : taken) {
        for (const Feed::Event& e : g.events) {
          const std::string_view name(g.names.data() + e.name_at, e.name_size);
          current_->SetKey(keys_.Of(name), e.head);
        }
        folded_ += g.events.size();
        fed_ += g.events.size();
        current_size_ = g.last;
      }
    }
    if (current_size_ >= to) break;
    Status s = Fold(current_.get(), current_size_, read_back_to);
    if (!s.ok()) return s;
    current_size_ = read_back_to;
  }
  return Status::OK();
}

Status StreamHeads::MapAt(uint64_t size, StreamMap** out) {
  if (size > ledger_->Size()) {
    return Status::InvalidArgument("the log has " + std::to_string(ledger_->Size()) +
                                   " events; no stream heads at size " + std::to_string(size));
  }
  if (size >= current_size_) {
    Status s = FoldCurrent(size);
    if (!s.ok()) return s;
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

uint64_t StreamHeads::fed() const {
  std::lock_guard<std::mutex> l(mu_);
  return fed_;
}

Status StreamHeads::KeepLatest(uint64_t size, const std::string& note) {
  std::lock_guard<std::mutex> l(mu_);
  if (size <= latest_size_) return Status::OK();
  Status s = WriteFileDurably(ledger_->dir() + "/" + kLatestFileName, note, 0644);
  if (s.ok()) latest_size_ = size;
  return s;
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
  return heads->KeepLatest(c->size, *note);
}

Status AuditStreamHeads(Ledger* ledger, const std::vector<note::VerifierKey>& log_keys,
                        StreamHeadsAudit* audit) {
  *audit = StreamHeadsAudit{};
  const std::string dir = ledger->dir();
  const std::string latest = dir + "/" + StreamHeads::kLatestFileName;
  std::string map_bytes, note_bytes;
  Status read_map = ReadWholeFile(dir + "/" + StreamHeads::kFileName, &map_bytes);
  Status read_note = ReadWholeFile(latest, &note_bytes);
  for (const Status& r : {read_map, read_note}) {
    if (!r.ok() && !r.IsNotFound()) return r;
  }
  // Both files are written after the events they are of are durable: a
  // reader beside the server (a secondary) catches up after reading them, so
  // that its log holds what they speak of.
  if (ledger->secondary()) {
    Status s = ledger->CatchUpWithPrimary();
    if (!s.ok()) return s;
  }
  const uint64_t log_size = ledger->Size();
  // 1. The persisted map, read strictly.
  std::unique_ptr<StreamMap> file;
  Status s;
  if (read_map.ok()) {
    audit->file = true;
    s = ParseHeadsFile(map_bytes, &file, &audit->file_size);
    if (!s.ok()) return Status::Tampered(dir + "/stream-heads: " + s.message());
    audit->file_streams = file->streams();
    if (audit->file_size > log_size) {
      return Status::Tampered(dir + "/stream-heads: it is of size " +
                              std::to_string(audit->file_size) + " but the log has " +
                              std::to_string(log_size) + " events");
    }
  }
  // 2. The latest checkpoint: signed by this log, of its tree.
  if (read_note.ok()) {
    audit->checkpoint = true;
    Checkpoint c;
    Status opened = Status::Tampered("no key of this log to check it with");
    for (const note::VerifierKey& k : log_keys) {
      opened = OpenCheckpoint(note_bytes, k, &c);
      if (opened.ok()) break;
    }
    if (!opened.ok()) return Status::Tampered(latest + ": " + opened.message());
    audit->checkpoint_size = c.size;
    if (c.size > log_size) {
      return Status::Tampered(latest + ": a checkpoint of size " + std::to_string(c.size) +
                              " but the log has " + std::to_string(log_size) + " events");
    }
    Hash root = merkle::EmptyRoot();
    if (c.size > 0) {
      InclusionProof p;
      s = ledger->Inclusion(c.size, c.size, &p);
      if (!s.ok()) return s;
      root = p.root;
    }
    if (root != c.root) {
      return Status::Tampered(latest + ": its root is not the log's at size " +
                              std::to_string(c.size));
    }
    s = StreamHeadsRootOf(c, &audit->map_root);
    if (!s.ok()) return Status::Tampered(latest + ": " + s.message());
  }
  // 3. One fold of the log, compared at each size on the way.
  StreamMap fresh;
  StreamKeys keys;
  std::map<Hash, std::string> names;
  uint64_t at = 0, folded = 0;
  auto name = [&](const Hash& key, std::string_view stream) {
    if (names.find(key) == names.end()) names.emplace(key, std::string(stream));
  };
  auto fold_to = [&](uint64_t size) {
    Status f = FoldLog(ledger, &fresh, &keys, at, size, &folded, name);
    at = std::max(at, size);
    return f;
  };
  auto check_file = [&]() -> Status {
    if (*file == fresh) return Status::OK();
    // Name the first stream (in key order) whose head differs.
    std::vector<std::pair<Hash, StreamHead>> in_file, in_log;
    file->ForEach([&](const Hash& k, const StreamHead& h) { in_file.push_back({k, h}); });
    fresh.ForEach([&](const Hash& k, const StreamHead& h) { in_log.push_back({k, h}); });
    auto [f, g] = std::mismatch(in_file.begin(), in_file.end(), in_log.begin(), in_log.end());
    const Hash key =
        g == in_log.end() || (f != in_file.end() && f->first < g->first) ? f->first : g->first;
    auto describe = [&](const StreamMap& m) -> std::string {
      const StreamHead h = m.GetKey(key);
      if (h.version == 0) return "absent";
      return "version " + std::to_string(h.version) + " at seq " + std::to_string(h.seq);
    };
    auto n = names.find(key);
    const std::string stream =
        n != names.end() ? "'" + n->second + "'"
                         : "a stream the log does not have (key " + merkle::ToHex(key) + ")";
    return Status::Tampered(dir + "/stream-heads (size " + std::to_string(audit->file_size) +
                            ") is not the log's stream heads: the head of " + stream + " is " +
                            describe(*file) + " in the file and " + describe(fresh) +
                            " in the log");
  };
  auto check_checkpoint = [&]() -> Status {
    if (fresh.Root() == audit->map_root) return Status::OK();
    return Status::Tampered(latest + " (size " + std::to_string(audit->checkpoint_size) +
                            "): its ocop-stream-heads line is not the root of the log's stream "
                            "heads at that size");
  };
  std::vector<std::pair<uint64_t, int>> points;
  if (audit->file) points.push_back({audit->file_size, 0});
  if (audit->checkpoint) points.push_back({audit->checkpoint_size, 1});
  std::sort(points.begin(), points.end());
  for (const auto& [size, what] : points) {
    s = fold_to(size);
    if (s.ok()) s = what == 0 ? check_file() : check_checkpoint();
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace ocop::ledger
