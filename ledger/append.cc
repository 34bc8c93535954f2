// Appending: validation, idempotency, and the group commit.
#include "ledger/ledger.h"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
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

namespace {

bool ValidDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) v = v * 10 + (d[i] - '0');
    return v;
  };
  int y = num(0, 4), m = num(5, 2), day = num(8, 2);
  if (m < 1 || m > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  return day <= max;
}

// Length-prefixed so that ("ab","c") and ("a","bc") differ.
void AddField(std::string* s, std::string_view f) {
  keys::PutBE64(s, f.size());
  s->append(f);
}

// What an idempotency key is bound to: everything the caller sent.
merkle::Hash RequestDigest(const AppendRequest& r) {
  std::string s;
  for (const NewEvent& e : r.events) {
    for (std::string_view f :
         {std::string_view(e.stream), std::string_view(e.type), std::string_view(e.effective),
          std::string_view(e.actor.principal), std::string_view(e.actor.role),
          std::string_view(e.actor.unit), std::string_view(e.payload)}) {
      AddField(&s, f);
    }
  }
  s.push_back('|');
  for (const ExpectedVersion& x : r.expected) {
    AddField(&s, x.stream);
    keys::PutBE64(&s, x.version);
  }
  return merkle::Sha256(s);
}

}  // namespace

namespace {

Status ValidateEvent(const NewEvent& e, size_t i) {
  // Built only for a refusal: valid events, the common case, cost no strings.
  auto where = [i] { return "events[" + std::to_string(i) + "]"; };
  if (e.stream.empty()) return Status::InvalidArgument(where() + ".stream is empty; name a stream");
  if (e.stream.size() > 1024)
    return Status::InvalidArgument(where() + ".stream is longer than 1024 bytes");
  if (e.stream.find('\0') != std::string::npos) {
    return Status::InvalidArgument(where() + ".stream contains a NUL byte");
  }
  if (e.type.empty())
    return Status::InvalidArgument(where() + ".type is empty; name the event type");
  if (!ValidDate(e.effective)) {
    return Status::InvalidArgument(where() + ".effective '" + e.effective +
                                   "' is not a date; use YYYY-MM-DD");
  }
  return Status::OK();
}

// A message builder whose first segment is given (zeroed, owned by the
// caller); a further segment is allocated and kept here, and spilled() says
// so. BuildEnvelope gives it the first segment MallocMessageBuilder would
// have allocated, of the same size, so that a message that fits is the same
// bytes; one that does not is built again the way it always was.
class SlotBuilder final : public capnp::MessageBuilder {
 public:
  explicit SlotBuilder(kj::ArrayPtr<capnp::word> first) : first_(first) {}
  kj::ArrayPtr<capnp::word> allocateSegment(uint minimum) override {
    if (!given_ && minimum <= first_.size()) {
      given_ = true;
      return first_;
    }
    given_ = true;
    spilled_ = true;
    more_.push_back(kj::heapArray<capnp::word>(std::max<uint>(minimum, 1024)));
    std::memset(more_.back().begin(), 0, more_.back().size() * sizeof(capnp::word));
    return more_.back();
  }
  bool spilled() const { return spilled_; }

 private:
  kj::ArrayPtr<capnp::word> first_;
  bool given_ = false, spilled_ = false;
  std::vector<kj::Array<capnp::word>> more_;
};

// Fills in the envelope of `e` without the numbers the writer assigns.
Status FillEnvelope(const NewEvent& e, const std::string& idempotency_key, size_t i,
                    capnp::MessageBuilder* msg, schema::Event::Builder* out) {
  auto ev = msg->initRoot<schema::Event>();
  ev.setStream(e.stream);
  ev.setType(e.type);
  ev.setEffective(e.effective);
  auto actor = ev.initActor();
  actor.setPrincipal(e.actor.principal);
  actor.setRole(e.actor.role);
  actor.setUnit(e.actor.unit);
  ev.setIdempotencyKey(idempotency_key);
  if (!e.payload.empty()) {
    if (e.payload.size() % sizeof(capnp::word) != 0) {
      return Status::InvalidArgument("events[" + std::to_string(i) +
                                     "].payload is not a Cap'n Proto message (length " +
                                     std::to_string(e.payload.size()) + " is not a multiple of 8)");
    }
    // Read in place when the caller's bytes are aligned to a word (a heap
    // string's are), else from an aligned copy.
    kj::Array<capnp::word> copy;
    kj::ArrayPtr<const capnp::word> words;
    if (reinterpret_cast<uintptr_t>(e.payload.data()) % alignof(capnp::word) == 0) {
      words = kj::arrayPtr(reinterpret_cast<const capnp::word*>(e.payload.data()),
                           e.payload.size() / sizeof(capnp::word));
    } else {
      copy = kj::heapArray<capnp::word>(e.payload.size() / sizeof(capnp::word));
      std::memcpy(copy.begin(), e.payload.data(), e.payload.size());
      words = copy;
    }
    KJ_IF_MAYBE (ex, kj::runCatchingExceptions([&]() {
                   capnp::FlatArrayMessageReader reader(words);
                   ev.getPayload().set(reader.getRoot<capnp::AnyPointer>());
                 })) {
      return Status::InvalidArgument(
          "events[" + std::to_string(i) +
          "].payload is not a valid Cap'n Proto message: " + ex->getDescription().cStr());
    }
  }
  *out = ev;
  return Status::OK();
}

// The byte offsets, in the event's data section, of the numbers the writer
// assigns (from the schema: each is a 64-bit slot).
struct AssignedSlots {
  size_t seq, version, recorded_at;
};
const AssignedSlots& Slots() {
  static const AssignedSlots slots = [] {
    auto event = capnp::Schema::from<schema::Event>();
    auto at = [&](const char* name) {
      return static_cast<size_t>(event.getFieldByName(name).getProto().getSlot().getOffset()) *
             sizeof(uint64_t);
    };
    return AssignedSlots{at("seq"), at("version"), at("recordedAt")};
  }();
  return slots;
}

// Writes `v` little-endian at `at`: how Cap'n Proto stores a 64-bit field
// whose default is zero.
void PutLE64(char* at, uint64_t v) {
  for (int i = 0; i < 8; ++i) at[i] = static_cast<char>(v >> (8 * i));
}

// Builds the envelope of `e` without the numbers the writer assigns, as a
// flat array at the end of w->flat: in a first segment of the size
// MallocMessageBuilder(64 + payload words) allocated before (so the bytes are
// the same), placed straight after the segment table's word, with no
// builder, copy or array of its own. A message larger than that first
// segment is built as before and flattened into w->spilled.
// w_flat, w_spilled and w_envelopes are the writer's; *w_bytes counts.
Status BuildEnvelope(const NewEvent& e, const std::string& idempotency_key, size_t i,
                     std::vector<uint64_t>* w_flat, std::vector<std::string>* w_spilled,
                     std::vector<FlatEnvelope>* w_envelopes, size_t* w_bytes) {
  const size_t first_words = 64 + e.payload.size() / 8;
  const size_t at = w_flat->size();
  // Zeroed words for the segment table and the first segment; what the
  // message does not use is given back below.
  w_flat->resize(at + 1 + first_words);
  FlatEnvelope env;
  {
    SlotBuilder msg(
        kj::arrayPtr(reinterpret_cast<capnp::word*>(w_flat->data() + at + 1), first_words));
    schema::Event::Builder ev(nullptr);
    Status s = FillEnvelope(e, idempotency_key, i, &msg, &ev);
    if (!s.ok()) return s;
    if (!msg.spilled()) {
      auto segments = msg.getSegmentsForOutput();
      const size_t used = segments[0].size();
      char* base = reinterpret_cast<char*>(w_flat->data());
      PutLE64(base + at * sizeof(capnp::word), static_cast<uint64_t>(used) << 32);
      env.begin = at * sizeof(capnp::word);
      env.end = (at + 1 + used) * sizeof(capnp::word);
      env.data = static_cast<size_t>(
          reinterpret_cast<char*>(capnp::AnyStruct::Builder(kj::mv(ev)).getDataSection().begin()) -
          base);
      w_flat->resize(at + 1 + used);
    }
  }
  if (env.end == 0) {
    w_flat->resize(at);
    capnp::MallocMessageBuilder msg(first_words);
    schema::Event::Builder ev(nullptr);
    Status s = FillEnvelope(e, idempotency_key, i, &msg, &ev);
    if (!s.ok()) return s;
    std::string bytes;
    AppendFlat(msg, &bytes);
    // The data section's place in the flat array: after the segment table,
    // in whichever segment holds it.
    const auto* data = capnp::AnyStruct::Builder(kj::mv(ev)).getDataSection().begin();
    auto segments = msg.getSegmentsForOutput();
    size_t offset = (segments.size() / 2 + 1) * sizeof(capnp::word);
    for (const auto& seg : segments) {
      const auto* b = reinterpret_cast<const kj::byte*>(seg.begin());
      if (data >= b && data < b + seg.size() * sizeof(capnp::word)) {
        offset += static_cast<size_t>(data - b);
        break;
      }
      offset += seg.size() * sizeof(capnp::word);
    }
    env.spill = static_cast<int>(w_spilled->size());
    env.begin = 0;
    env.end = bytes.size();
    env.data = offset;
    w_spilled->push_back(std::move(bytes));
  }
  *w_bytes += env.end - env.begin;
  w_envelopes->push_back(env);
  return Status::OK();
}

}  // namespace

Status Ledger::Append(const AppendRequest& request, AppendResult* result) {
  Writer w;
  Status s = Prepare(request, result, &w);
  if (!s.ok()) return s;
  return Commit(&w);
}

void Ledger::AppendEach(const std::vector<const AppendRequest*>& requests,
                        std::vector<Status>* statuses, std::vector<AppendResult>* results) {
  statuses->assign(requests.size(), Status::OK());
  results->assign(requests.size(), AppendResult());
  std::vector<std::unique_ptr<Writer>> writers(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    writers[i] = std::make_unique<Writer>();
    (*statuses)[i] = Prepare(*requests[i], &(*results)[i], writers[i].get());
  }
  // Queued one behind the other, so that the first to reach the front
  // writes the rest with it (as far as the group limits allow).
  std::unique_lock<std::mutex> l(mu_);
  for (size_t i = 0; i < requests.size(); ++i) {
    if ((*statuses)[i].ok()) Enqueue(writers[i].get());
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!(*statuses)[i].ok()) continue;
    if (!l.owns_lock()) l.lock();
    (*statuses)[i] = AwaitOrLead(writers[i].get(), l);
  }
}

// Checks `request` and builds its envelopes into `w`; nothing is queued.
Status Ledger::Prepare(const AppendRequest& request, AppendResult* result, Writer* wp) {
  Writer& w = *wp;
  if (request.events.empty()) return Status::InvalidArgument("an append needs at least one event");
  w.request = &request;
  w.result = result;
  for (size_t i = 0; i < request.events.size(); ++i) {
    Status s = ValidateEvent(request.events[i], i);
    if (!s.ok()) return s;
  }
  for (const ExpectedVersion& x : request.expected) {
    bool named = std::any_of(request.events.begin(), request.events.end(),
                             [&](const NewEvent& e) { return e.stream == x.stream; });
    if (!named) {
      return Status::InvalidArgument("expected version given for stream '" + x.stream +
                                     "', which this append does not write to");
    }
  }
  // Room for every envelope, so that the buffer is rarely grown (a grown
  // buffer is copied; nothing points into it until PrepareOne).
  size_t words = 0;
  for (const NewEvent& e : request.events) {
    words += 16 + (e.stream.size() + e.type.size() + e.effective.size() + e.actor.principal.size() +
                   e.actor.role.size() + e.actor.unit.size() + request.idempotency_key.size() +
                   e.payload.size()) /
                      sizeof(capnp::word);
  }
  w.flat.reserve(words + 64 + request.events.back().payload.size() / 8 + 1);
  w.envelopes.reserve(request.events.size());
  for (size_t i = 0; i < request.events.size(); ++i) {
    Status s = BuildEnvelope(request.events[i], request.idempotency_key, i, &w.flat, &w.spilled,
                             &w.envelopes, &w.bytes);
    if (!s.ok()) return s;
  }
  if (!request.idempotency_key.empty()) {
    if (!request.idempotency_digest.empty()) {
      w.digest = merkle::ToHex(merkle::Sha256(request.idempotency_digest));
    } else {
      w.digest = merkle::ToHex(RequestDigest(request));
    }
  }
  return Status::OK();
}

Status Ledger::AppendReplicated(const std::vector<std::string>& stored_events) {
  if (stored_events.empty()) return Status::OK();
  AppendResult ignored;
  AppendRequest none;
  Writer w;
  w.request = &none;
  w.result = &ignored;
  w.replicated = &stored_events;
  for (const auto& e : stored_events) w.bytes += e.size();
  return Commit(&w);
}

// Queues `w` and either waits for the group that carries it or, at the
// front of the queue, writes that group itself (LevelDB's design).
Status Ledger::Commit(Writer* w) {
  std::unique_lock<std::mutex> l(mu_);
  Enqueue(w);
  return AwaitOrLead(w, l);
}

void Ledger::Enqueue(Writer* w) {
  w->thread = std::this_thread::get_id();
  writers_.push_back(w);
  const size_t back = returned_.load(std::memory_order_relaxed);
  auto it = std::find(returners_.begin() + back, returners_.end(), w->thread);
  if (it == returners_.end()) return;
  std::iter_swap(it, returners_.begin() + back);
  returned_.store(back + 1, std::memory_order_release);
}

// Callers that append one after the other (a client waiting for each answer)
// come back a moment after their sync wakes them. If the next group were
// written and synced while they are away, each sync would carry about half of
// them and they would settle into two cohorts taking turns, every append
// waiting for two syncs (the profile in BENCHMARKS.md, issue 18). So a leader
// whose turn comes while a sync is in flight writes what is queued (during
// that sync), waits for the sync to end, writes what queued meanwhile, and
// then waits, for at most twice the last sync's time, for the rest of that
// sync's callers to queue again, and writes them too: one sync carries them
// all. A caller alone, or callers that do not come back, cost that bounded
// wait and nothing more. Returns the highest seq that must be durable
// (WriteGroup's); *group is everyone written, still at the queue's front.
uint64_t Ledger::WriteQueued(std::vector<Writer*>* group, std::unique_lock<std::mutex>& l) {
  uint64_t need = 0;
  size_t events = 0, bytes = 0;
  bool full = false;
  // Writes the queued writers not yet written, within the limits.
  auto write_more = [&] {
    std::vector<Writer*> more;
    for (size_t i = group->size(); i < writers_.size(); ++i) {
      Writer* x = writers_[i];
      size_t n = x->replicated ? x->replicated->size() : x->envelopes.size();
      if (!group->empty() || !more.empty()) {
        if (events + n > options_.max_group_events || bytes + x->bytes > options_.max_group_bytes) {
          full = true;
          break;
        }
      }
      more.push_back(x);
      events += n;
      bytes += x->bytes;
    }
    if (more.empty()) return;
    l.unlock();
    need = std::max(need, WriteGroup(more));
    l.lock();
    group->insert(group->end(), more.begin(), more.end());
  };
  write_more();
  if (full || returned_.load(std::memory_order_relaxed) == returners_.size()) return need;
  l.unlock();
  {
    std::unique_lock<std::mutex> sl(sync_mu_);
    sync_cv_.wait(sl, [&] { return !syncing_; });
  }
  l.lock();
  write_more();
  // The bound is twice the last sync, not half of it (n18g's): the callers
  // come back one after the other as the old leader wakes them (~17 us each
  // on this VM, so ~500 us for 31 of them), and with half a sync (~100-170 us
  // on a quiet machine) the last ones missed the write and waited a whole
  // cycle more: 7.1-7.3 events a sync at 8 writers and 27-28 at 32, against
  // 7.9 and 31 with this bound (BENCHMARKS.md, issue 18, n19w). A caller that
  // does not come back costs this wait once.
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::microseconds(std::clamp<int64_t>(last_sync_us_.load() * 2, 20, 2000));
  if (!full) {
    // Yielding, not sleeping: the last returner then has no one to wake, and
    // on this VM a wake-up costs the waker ~20 us and the woken ~50 us more
    // (BENCHMARKS.md, issue 18, n18c). Only the leader waits here, for at
    // most two syncs, and only while callers are on their way back.
    const size_t want = returners_.size();
    l.unlock();
    while (returned_.load(std::memory_order_acquire) < want &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    l.lock();
  }
  if (!full) write_more();
  return need;
}

// `w` was queued (AppendEach's later writers may be answered already) and `l`
// holds mu_; returns with `l` released.
//
// Write, then sync, in two stages. The leader writes its group (WAL write and
// memtable, no sync) while the previous group's sync may still run; then
// waits for that sync to end, begins its own (which covers every group
// written so far), and only then hands the queue on, so that the next group
// is built and written during this sync instead of after it. One sync is in
// flight at a time, and callers arriving meanwhile queue behind the next
// leader and share its write and sync. Nobody returns before a sync that
// covers their events (or a duplicate's) has returned, and no reader sees
// them before then either (reads stop at Size()).
//
// Wake-ups are made after mu_ is released, each under the woken writer's own
// mutex (Writer::Wake): a thread woken while the waker holds mu_ would run
// only to sleep again on mu_, and at 8 writers that was a convoy of two
// context switches per wake-up, passed from writer to writer through mu_
// (BENCHMARKS.md, issue 18, n18c).
Status Ledger::AwaitOrLead(Writer* wp, std::unique_lock<std::mutex>& l) {
  using Turn = Writer::Turn;
  Writer& w = *wp;
  if (writers_.empty() || writers_.front() != &w) {
    l.unlock();
    // A member of a group being written is no longer queued: its leader
    // answers it (kDone); or the queue comes to it (kLead).
    if (w.Await() == Turn::kDone) return w.status;
    l.lock();
  }

  // This caller leads: it writes everyone queued behind it, within the
  // limits, in up to three writes (WriteQueued).
  std::vector<Writer*> group;
  const uint64_t need = WriteQueued(&group, l);
  l.unlock();
  uint64_t covered = 0;
  Status durable = need == 0 ? Status::OK() : BeginSync(need, &covered);
  l.lock();
  for (size_t i = 0; i < group.size(); ++i) writers_.pop_front();
  // The next leader waits for this group's callers (WriteQueued).
  returners_.clear();
  size_t back = 0;
  if (covered != 0) {
    for (Writer* x : group) {
      if (std::find(returners_.begin(), returners_.end(), x->thread) == returners_.end())
        returners_.push_back(x->thread);
    }
    // A caller with more writers queued (AppendEach) is back already.
    for (Writer* x : writers_) {
      auto it = std::find(returners_.begin() + back, returners_.end(), x->thread);
      if (it != returners_.end()) std::iter_swap(it, returners_.begin() + back++);
    }
  }
  returned_.store(back, std::memory_order_relaxed);
  // The front stays queued, and so alive, until it is woken: nobody else
  // takes the queue meanwhile.
  Writer* next = writers_.empty() ? nullptr : writers_.front();
  l.unlock();
  if (next != nullptr) next->Wake(Turn::kLead);
  if (covered != 0) durable = FinishSync(covered);
  if (!durable.ok()) {
    for (Writer* x : group) {
      if (x->status.ok()) {
        x->status = durable;
        x->result->seqs.clear();
      }
    }
  }
  for (Writer* x : group) {
    if (x != &w) x->Wake(Turn::kDone);
  }
  return w.status;
}

Status Ledger::BeginSync(uint64_t need, uint64_t* covered) {
  std::unique_lock<std::mutex> l(sync_mu_);
  sync_cv_.wait(l, [&] { return !syncing_; });
  if (!sync_error_.ok()) return sync_error_;
  if (durable_ >= need) return Status::OK();  // a duplicate of events now durable
  // Every group whose write returned is in the WAL file (write(2) happened
  // in db_->Write), so a sync from now on covers it.
  *covered = written_.load(std::memory_order_acquire);
  syncing_ = true;
  return Status::OK();
}

Status Ledger::FinishSync(uint64_t covered) {
  Status s = Status::OK();
  if (options_.sync) {
    const auto start = std::chrono::steady_clock::now();
    s = FromRocks(db_->SyncWAL(), "syncing the ledger's log");
    last_sync_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count());
  }
  {
    // Publishing stays under sync_mu_, so that publications keep the order
    // of the syncs; the waiters are woken once it is released.
    std::lock_guard<std::mutex> l(sync_mu_);
    syncing_ = false;
    if (!s.ok()) {
      // What was written may or may not be on disk: it is never acknowledged,
      // and nothing after it is either (RocksDB itself stops writing after a
      // failed sync).
      sync_error_ = s;
    } else {
      durable_ = covered;
      {
        std::lock_guard<std::mutex> sl(stats_mu_);
        ++stats_.syncs;
      }
      Publish(covered);
    }
  }
  sync_cv_.notify_all();
  return s;
}

void Ledger::Publish(uint64_t size) {
  {
    // The heads cache first, then the writer's own view: a writer that
    // misses in one finds the version in the other, or in RocksDB.
    std::lock_guard<std::mutex> pl(pending_mu_);
    std::lock_guard<std::mutex> hl(heads_mu_);
    while (!unpublished_.empty() && unpublished_.front().first <= size) {
      auto& versions = unpublished_.front().second;
      if (heads_cache_.size() + versions.size() > kHeadsCacheLimit) {
        heads_cache_.clear();
        ++heads_generation_;
      }
      for (const auto& [stream, version] : versions) {
        heads_cache_[stream] = version;
        auto it = unsynced_versions_.find(stream);
        if (it != unsynced_versions_.end() && it->second == version) unsynced_versions_.erase(it);
      }
      unpublished_.pop_front();
    }
  }
  NotifyCommitted(size);
}

// Checks one writer's request against the group's view and, if it holds, adds
// its events to the batch. A refused request adds nothing: every check comes
// before the first Put.
Status Ledger::PrepareOne(Writer* w, GroupState* g, void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  const AppendRequest& r = *w->request;
  if (w->replicated) return PrepareReplicated(w, g);

  const std::string& key = r.idempotency_key;
  if (!key.empty()) {
    auto seen = g->keys.find(key);
    std::string digest;
    std::vector<uint64_t> seqs;
    bool found = false;
    if (seen != g->keys.end()) {
      digest = seen->second.first;
      seqs = seen->second.second;
      found = true;
    } else {
      Status st = FindIdempotencyKeyWritten(key, &digest, &seqs);
      if (st.ok()) {
        found = true;
      } else if (!st.IsNotFound()) {
        return st;
      }
    }
    if (found) {
      if (digest != w->digest) {
        return Status::Conflict("idempotency key '" + key +
                                "' was already used for a different request; use a new key");
      }
      w->result->seqs = seqs;
      w->result->duplicate = true;
      return Status::OK();
    }
  }

  auto version_of = [&](const std::string& stream, uint64_t* v) -> Status {
    return StreamVersionIn(g, stream, v);
  };
  // Streams written where the caller expects them, and streams only read
  // where it read them.
  for (const auto* list : {&r.expected, &r.unchanged}) {
    for (const ExpectedVersion& x : *list) {
      uint64_t actual = 0;
      Status s = version_of(x.stream, &actual);
      if (!s.ok()) return s;
      if (actual == x.version) continue;
      return Status::Conflict("stream '" + x.stream + "' " +
                              (list == &r.expected
                                   ? "is at version " + std::to_string(actual) +
                                         ", not the expected version " + std::to_string(x.version)
                                   : "was read at version " + std::to_string(x.version) +
                                         " and is now at version " + std::to_string(actual)) +
                              "; read it again and retry");
    }
  }

  // Accepted: number the events and add them, with their tree nodes.
  std::vector<uint64_t> seqs;
  seqs.reserve(r.events.size());
  auto sink = [&](int level, uint64_t index, const merkle::Hash& h) {
    g->tree.Add(level, index, h);
  };
  // Versions first, into a map of the request's own: a stream that cannot be
  // read refuses the request whole, with nothing of it in the group.
  std::unordered_map<std::string, uint64_t> mine;
  std::vector<uint64_t> versions(r.events.size());
  for (size_t i = 0; i < r.events.size(); ++i) {
    const std::string& stream = r.events[i].stream;
    auto [at, fresh] = mine.try_emplace(stream, 0);
    if (fresh) {
      Status s = version_of(stream, &at->second);
      if (!s.ok()) return s;
    }
    versions[i] = ++at->second;
  }
  for (auto& [stream, version] : mine) g->versions[stream] = version;
  // The numbers are written into the flat envelopes in place; the runs of
  // events point into them until they are put (the writer outlives its
  // group's write), and their leaves go into the tree in order. Hashing half
  // of a large request on the other core was tried and measured: on two
  // shared cores it cost more CPU than it saved and made batches slower under
  // load (BENCHMARKS.md, issue 18, n18e).
  const AssignedSlots& slots = Slots();
  for (size_t i = 0; i < r.events.size(); ++i) {
    const std::string& stream = r.events[i].stream;
    const uint64_t version = versions[i];
    uint64_t seq = g->next_seq++;
    seqs.push_back(seq);
    const FlatEnvelope& env = w->envelopes[i];
    char* bytes = w->Bytes(env);
    PutLE64(bytes + env.data + slots.seq, seq);
    PutLE64(bytes + env.data + slots.version, version);
    PutLE64(bytes + env.data + slots.recorded_at, static_cast<uint64_t>(g->recorded_at));
    g->entries.Add(stream, version, seq);
    const std::string_view event(bytes + env.begin, env.end - env.begin);
    g->frontier.Append(merkle::LeafHash(event), sink);
    g->events.Add(seq, event);
  }
  w->versions = std::move(versions);
  if (!key.empty()) {
    std::string v;
    merkle::Hash raw;
    merkle::FromHex(w->digest, &raw);
    v.assign(reinterpret_cast<const char*>(raw.data()), raw.size());
    keys::PutBE64(&v, seqs.front());
    keys::PutBE64(&v, seqs.size());
    batch->Put(idem_cf_, key, v);
    g->keys[key] = {w->digest, seqs};
  }
  w->result->seqs = std::move(seqs);
  w->result->duplicate = false;
  return Status::OK();
}

Status Ledger::StreamVersionIn(GroupState* g, const std::string& stream, uint64_t* v) {
  auto it = g->versions.find(stream);
  if (it != g->versions.end()) {
    *v = it->second;
    return Status::OK();
  }
  {
    // Written by an earlier group whose sync is still running.
    std::lock_guard<std::mutex> l(pending_mu_);
    auto u = unsynced_versions_.find(stream);
    if (u != unsynced_versions_.end()) {
      *v = u->second;
      return Status::OK();
    }
  }
  return StreamVersion(stream, v);
}

// Replicated events keep their bytes: only their numbering is checked.
Status Ledger::PrepareReplicated(Writer* w, GroupState* g) {
  // Check all first, so a bad event leaves the group untouched.
  std::unordered_map<std::string, uint64_t> versions;
  uint64_t seq = g->next_seq;
  for (const std::string& bytes : *w->replicated) {
    EventView view(bytes);
    if (!view.ok())
      return Status::Corruption("replicated event " + std::to_string(seq) + ": " + view.error());
    auto e = view.event();
    if (e.getSeq() != seq) {
      return Status::Conflict("replicated event says it is " + std::to_string(e.getSeq()) +
                              ", but this log expects event " + std::to_string(seq));
    }
    std::string stream = e.getStream().cStr();
    auto it = versions.find(stream);
    uint64_t have = 0;
    if (it != versions.end()) {
      have = it->second;
    } else {
      Status s = StreamVersionIn(g, stream, &have);
      if (!s.ok()) return s;
    }
    if (e.getVersion() != have + 1) {
      return Status::Conflict("replicated event " + std::to_string(seq) + " is version " +
                              std::to_string(e.getVersion()) + " of '" + stream +
                              "', which is at " + std::to_string(have));
    }
    versions[stream] = have + 1;
    ++seq;
  }
  auto sink = [&](int level, uint64_t index, const merkle::Hash& h) {
    g->tree.Add(level, index, h);
  };
  for (const std::string& bytes : *w->replicated) {
    EventView view(bytes);
    uint64_t s = g->next_seq++;
    g->events.Add(s, bytes);
    g->entries.Add(view.event().getStream().cStr(), view.event().getVersion(), s);
    g->versions[view.event().getStream().cStr()] = view.event().getVersion();
    g->frontier.Append(merkle::LeafHash(bytes), sink);
  }
  return Status::OK();
}

Status Ledger::CheckFreeSpace() {
  if (options_.reserve_bytes == 0) return Status::OK();
  struct statvfs st;
  if (::statvfs(dir_.c_str(), &st) != 0) return Status::OK();  // unknown: RocksDB will say
  uint64_t free_bytes = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  if (free_bytes >= options_.reserve_bytes) return Status::OK();
  return Status::NoSpace("the disk of " + dir_ + " is full: " + std::to_string(free_bytes >> 20) +
                         " MiB free, below the " + std::to_string(options_.reserve_bytes >> 20) +
                         " MiB kept in reserve (--reserve-mb); nothing was written. Reads go "
                         "on; writes resume once space is freed");
}

uint64_t Ledger::WriteGroup(std::vector<Writer*>& group) {
  // Refused before RocksDB is asked to write: a write that fails for want
  // of space inside RocksDB can leave it unable to go on (an assertion in
  // Debian's build), while a refusal here changes nothing.
  Status space = CheckFreeSpace();
  if (space.ok() && wal_failed_for_space_) {
    // Space is back after RocksDB itself failed for want of it: it stays
    // read-only until told to resume.
    space = FromRocks(db_->Resume(), "resuming writes after the disk was full");
    if (space.ok()) wal_failed_for_space_ = false;
  }
  if (!space.ok()) {
    for (Writer* w : group) w->status = space;
    return 0;
  }
  GroupState g;
  g.next_seq = next_seq_;
  g.frontier = frontier_;
  g.recorded_at = options_.clock();
  // Room for the events and what comes with them, so that the batch's buffer
  // is not grown (and copied) over and over while it is filled. A buffer
  // larger than a few groups of 1000 events is not kept.
  size_t reserve = 0;
  for (Writer* w : group) reserve += w->bytes + w->envelopes.size() * 48 + 64;
  if (!batch_ || batch_->GetDataSize() > (4 << 20)) {
    batch_ = std::make_unique<rocksdb::WriteBatch>(reserve);
  } else {
    batch_->Clear();  // keeps its buffer
  }
  rocksdb::WriteBatch& batch = *batch_;
  std::vector<Writer*> accepted;
  for (Writer* w : group) {
    w->status = PrepareOne(w, &g, &batch);
    if (w->status.ok() && (w->replicated || !w->result->duplicate)) accepted.push_back(w);
  }
  // The highest seq anyone is answered with: a duplicate may name events of
  // a group whose sync has not returned yet.
  uint64_t need = 0;
  for (Writer* w : group) {
    if (w->status.ok() && !w->replicated && !w->result->seqs.empty()) {
      need = std::max(need, w->result->seqs.back());
    }
  }
  if (accepted.empty()) return need;
  need = std::max(need, g.next_seq - 1);
  // One key per run of events, of subtrees of a level, of a stream's entries
  // (ledger_internal.h).
  g.events.Flush(&batch, events_cf_);
  g.tree.Flush(&batch, tree_cf_);
  g.entries.Flush(&batch, streams_cf_);
  for (const auto& [stream, version] : g.versions) {
    std::string v;
    keys::PutBE64(&v, version);
    batch.Put(heads_cf_, stream, v);
  }
  // Not synced here: see AwaitOrLead.
  writing_.store(g.next_seq - 1, std::memory_order_release);
  rocksdb::WriteOptions wo;
  wo.sync = false;
  Status s = FromRocks(db_->Write(wo, &batch), "appending to the ledger");
  if (s.IsNoSpace()) wal_failed_for_space_ = true;
  if (!s.ok()) {
    // Nothing of the batch is durable; nothing in memory moved either. A
    // duplicate answered from this group's own writes is not durable either.
    for (Writer* w : group) {
      if (w->status.ok()) {
        w->status = s;
        w->result->seqs.clear();
      }
    }
    writing_.store(next_seq_ - 1, std::memory_order_release);
    return 0;
  }
  TellWriteObserver(accepted);  // written, not yet durable: see SetWriteObserver
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.groups;
    stats_.calls += accepted.size();
    stats_.events += g.next_seq - next_seq_;
    size_t bucket =
        std::min<size_t>(std::bit_width(accepted.size()) - 1, stats_.calls_per_group.size() - 1);
    ++stats_.calls_per_group[bucket];
  }
  next_seq_ = g.next_seq;
  frontier_ = std::move(g.frontier);
  {
    std::lock_guard<std::mutex> l(pending_mu_);
    for (const auto& [stream, version] : g.versions) unsynced_versions_[stream] = version;
    unpublished_.emplace_back(next_seq_ - 1, std::move(g.versions));
  }
  written_.store(next_seq_ - 1, std::memory_order_release);
  return need;
}

CommitStats Ledger::Stats() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  return stats_;
}

void Ledger::NotifyCommitted(uint64_t size) {
  {
    std::lock_guard<std::mutex> l(commit_mu_);
    committed_.store(size, std::memory_order_release);
  }
  commit_cv_.notify_all();
}

// The write observer (SetWriteObserver; issue 14's stream heads), apart from
// the group commit above, which tells it of each group written.
void Ledger::SetWriteObserver(WriteObserver observer) {
  std::lock_guard<std::mutex> l(observer_mu_);
  observer_ = std::move(observer);
}

void Ledger::TellWriteObserver(const std::vector<Writer*>& accepted) {
  std::lock_guard<std::mutex> l(observer_mu_);
  if (!observer_) return;
  std::vector<WrittenEvent> events;
  for (Writer* w : accepted) {
    if (w->replicated) return;  // a gap the observer reads back: no decoding here
    for (size_t i = 0; i < w->envelopes.size(); ++i) {
      events.push_back(
          WrittenEvent{w->request->events[i].stream, w->versions[i], w->result->seqs[i]});
    }
  }
  observer_(events);
}

}  // namespace ocop::ledger
