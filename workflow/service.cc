#include "workflow/service.h"

#include <capnp/serialize.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>

#include "ledger/event_view.h"
#include "workflow/personal_data.h"
#include "workflow/stream_fold.h"

namespace ocop::workflow {
namespace {

// States folded from the ledger, shared by every decision of one Service,
// each kept with the stream version it is the fold of. A stream's first
// `version` events never change (the log is append-only), so a state is
// reused exactly while the ledger still reports that version; any other
// version means a reread. Bounded: a kind's map is emptied when it fills.
class SharedStates {
 public:
  // True, with the state and its version, if the state cached for `stream`
  // is the fold of the stream as the ledger has it now. States are shared,
  // never changed: whoever changes one changes a copy.
  template <typename S>
  bool Lookup(ledger::Ledger* ledger, const std::string& stream, std::shared_ptr<const S>* state,
              uint64_t* version) {
    uint64_t now = 0;
    if (!ledger->StreamVersion(stream, &now).ok()) return false;
    std::lock_guard<std::mutex> l(mu_);
    auto& map = std::get<Map<S>>(maps_);
    auto it = map.find(stream);
    if (it == map.end() || it->second.version != now) return false;
    *state = it->second.state;
    *version = now;
    return true;
  }

  // Keeps `state` as the fold of the first `version` events of `stream`,
  // unless a later version is kept already.
  template <typename S>
  void Store(const std::string& stream, std::shared_ptr<const S> shared, uint64_t version) {
    std::lock_guard<std::mutex> l(mu_);
    auto& map = std::get<Map<S>>(maps_);
    if (map.size() >= kMaxPerKind) map.clear();
    Entry<S>& e = map[stream];
    if (e.state && e.version > version) return;
    e.version = version;
    e.state = std::move(shared);
  }

  void Erase(const std::string& stream) {
    std::lock_guard<std::mutex> l(mu_);
    std::apply([&](auto&... maps) { (maps.erase(stream), ...); }, maps_);
  }

 private:
  static constexpr size_t kMaxPerKind = size_t{1} << 17;
  template <typename S>
  struct Entry {
    uint64_t version = 0;
    std::shared_ptr<const S> state;
  };
  template <typename S>
  using Map = std::unordered_map<std::string, Entry<S>>;

  std::mutex mu_;
  std::tuple<Map<ProductState>, Map<UnitState>, Map<PrincipalState>, Map<CouncilState>,
             Map<SubjectState>, Map<DisputeState>, Map<RoundState>>
      maps_;
};

// States folded from the ledger on first use, and kept for the life of one
// decision (or one atomic batch, where pending events are applied on top).
class LedgerView : public View {
 public:
  LedgerView(ledger::Ledger* ledger, SharedStates* shared) : ledger_(ledger), shared_(shared) {}

  Status Unit(const std::string& code, const UnitState** out) override {
    return Get(UnitStream(code), out);
  }
  Status Principal(const std::string& id, const PrincipalState** out) override {
    return Get(PrincipalStream(id), out);
  }
  Status Council(const std::string& id, const CouncilState** out) override {
    return Get(CouncilStream(id), out);
  }
  Status Subject(const std::string& id, const SubjectState** out) override {
    return Get(SubjectStream(id), out);
  }
  Status Dispute(const std::string& id, const DisputeState** out) override {
    return Get(DisputeStream(id), out);
  }
  Status Round(int year, const RoundState** out) override { return Get(RoundStream(year), out); }
  Status ProductEvents(const std::string& id, std::vector<ProductEvent>* out) override {
    std::string stream = ProductStream(id);
    StreamFold fold;
    Status s = LoadStream(ledger_, stream, &fold);
    if (!s.ok()) return s;
    base_.emplace(stream, fold.version);
    out->clear();
    for (const std::string& bytes : fold.events) {
      ledger::EventView view(bytes);
      if (!view.ok()) continue;
      auto e = view.As<schema::OcopEvent>();
      if (fold.annulled.count(e.getSeq()) || annulled_.count(e.getSeq()) ||
          e.getPayload().isEventAnnulled()) {
        continue;
      }
      out->push_back(CopyEvent(StreamFold::ToEventRef(e)));
    }
    auto pending = pending_events_.find(stream);
    if (pending != pending_events_.end()) {
      for (const EventRef& ref : pending->second) out->push_back(CopyEvent(ref));
    }
    return Status::OK();
  }
  Status Product(const std::string& id, const ProductState** out, uint64_t* version) override {
    std::string stream = ProductStream(id);
    Status s = Get(stream, out);
    if (s.ok()) *version = VersionNow(stream);
    return s;
  }
  Status Event(uint64_t seq, EventInfo* out, bool* annulled) override {
    std::string bytes;
    Status s = ledger_->Get(seq, &bytes);
    if (!s.ok()) return s;
    ledger::EventView view(bytes);
    if (!view.ok()) return Status::Corruption("event " + std::to_string(seq) + ": " + view.error());
    out->seq = seq;
    out->stream = view.event().getStream().cStr();
    out->type = view.event().getType().cStr();
    out->kind = view.As<schema::OcopEvent>().getPayload().which();
    out->actor_unit = view.event().getActor().getUnit().cStr();
    StreamFold fold;
    s = LoadStream(ledger_, out->stream, &fold);
    if (!s.ok()) return s;
    // Read, as any other: "not annulled yet" holds only while the stream
    // stays at this version (two annulments of one event raced otherwise).
    base_.emplace(out->stream, fold.version);
    *annulled = fold.annulled.count(seq) > 0 || annulled_.count(seq) > 0;
    return Status::OK();
  }

  // Every stream this view read (or will write), at the version it first
  // read it.
  const std::map<std::string, uint64_t>& StreamsRead() const { return base_; }
  // Whether decide read the state of `stream` (not only its version).
  bool Loaded(const std::string& stream) const { return loaded_.count(stream) > 0; }

  // The version a stream had when this view first read it (0 if never).
  uint64_t BaseVersion(const std::string& stream) {
    auto it = base_.find(stream);
    if (it != base_.end()) return it->second;
    uint64_t v = 0;
    Status s = ledger_->StreamVersion(stream, &v);
    if (!s.ok() && failure_.ok()) failure_ = s;
    base_[stream] = v;
    return v;
  }
  // The first failure of BaseVersion, if any: what was decided on it may not
  // be appended.
  const Status& failure() const { return failure_; }

  // Applies a decided (not yet appended) event to the cached states, so the
  // next command of an atomic batch sees it. `e` must outlive the view.
  //
  // An annulment cannot be applied by evolving: it takes an earlier event out
  // of the fold. So the stream is dropped from the caches and folded again,
  // on its next read, without the annulled event and with the batch's
  // pending events on top (found by the property test: a batch that annulled
  // a dossier and then scored it recorded a score on no dossier).
  void Apply(const PendingEvent& e) {
    BaseVersion(e.stream);
    ++pending_[e.stream];
    EventRef ref;
    ParseDate(effective_, &ref.effective);
    ref.payload = e.payload->getRoot<schema::Payload>().asReader();
    if (ref.payload.isEventAnnulled()) {
      annulled_.insert(ref.payload.getEventAnnulled().getTargetSeq());
      std::apply([&](auto&... caches) { (caches.erase(e.stream), ...); }, caches_);
      return;
    }
    pending_events_[e.stream].push_back(ref);
    ApplyTo(e.stream, ref);
  }
  void set_effective(std::string effective) { effective_ = std::move(effective); }

  // After `d` was appended as `seqs`, on `effective`: hands the shared
  // states the folds of the streams it wrote, so that the next decision on
  // them need not read them back. Only for a view without pending events
  // (Submit's), whose states are the folds at their base versions.
  void Remember(const Decided& d, const std::string& effective, const std::vector<uint64_t>& seqs) {
    if (shared_ == nullptr || seqs.size() != d.events.size() || !pending_.empty()) return;
    EventRef ref;
    ParseDate(effective, &ref.effective);
    std::map<std::string, size_t> written;  // stream -> events appended to it
    for (const auto& e : d.events) ++written[e.stream];
    for (const auto& entry : written) {
      // Named, not a structured binding: clang 14 (the fuzzers' compiler)
      // cannot capture a binding in the lambda below.
      const std::string& stream = entry.first;
      const size_t count = entry.second;
      bool annuls = false;
      for (const auto& e : d.events) {
        annuls = annuls ||
                 (e.stream == stream && e.payload->getRoot<schema::Payload>().isEventAnnulled());
      }
      // An annulment takes an earlier event out of the fold: read it again.
      if (annuls) {
        shared_->Erase(stream);
        continue;
      }
      auto remember = [&](auto& cache) {
        auto it = cache.find(stream);
        if (it == cache.end()) return;
        auto state = *it->second;
        for (size_t i = 0; i < d.events.size(); ++i) {
          if (d.events[i].stream != stream) continue;
          ref.seq = seqs[i];
          ref.payload = d.events[i].payload->getRoot<schema::Payload>().asReader();
          state = Evolve(std::move(state), ref);
        }
        using S = decltype(state);
        shared_->Store<S>(stream, std::make_shared<const S>(std::move(state)),
                          BaseVersion(stream) + count);
      };
      std::apply([&](auto&... caches) { (remember(caches), ...); }, caches_);
    }
  }

 private:
  template <typename S>
  using Cache = std::unordered_map<std::string, std::shared_ptr<const S>>;

  template <typename S>
  Cache<S>& CacheOf() {
    return std::get<Cache<S>>(caches_);
  }

  template <typename S>
  Status Get(const std::string& stream, const S** out) {
    auto& cache = CacheOf<S>();
    auto it = cache.find(stream);
    if (it == cache.end()) {
      std::shared_ptr<const S> state;
      uint64_t version = 0;
      // The shared states know nothing of a batch's pending annulments.
      const bool shareable = shared_ != nullptr && annulled_.empty();
      if (!shareable || !shared_->Lookup(ledger_, stream, &state, &version)) {
        StreamFold fold;
        Status s = LoadStream(ledger_, stream, &fold);
        if (!s.ok()) return s;
        fold.annulled.insert(annulled_.begin(), annulled_.end());
        S folded{};
        fold.Fold(&folded);
        state = std::make_shared<const S>(std::move(folded));
        version = fold.version;
        if (shareable) shared_->Store(stream, state, version);
      }
      base_.emplace(stream, version);
      loaded_.insert(stream);
      // The batch's events of this stream, decided before this read.
      auto pending = pending_events_.find(stream);
      if (pending != pending_events_.end()) {
        S evolved = *state;
        for (const EventRef& ref : pending->second) evolved = Evolve(std::move(evolved), ref);
        state = std::make_shared<const S>(std::move(evolved));
      }
      it = cache.emplace(stream, std::move(state)).first;
    }
    *out = it->second.get();
    return Status::OK();
  }

  void ApplyTo(const std::string& stream, const EventRef& ref) {
    auto apply = [&](auto& cache) {
      auto it = cache.find(stream);
      if (it == cache.end()) return;
      using S = typename std::decay_t<decltype(*it->second)>;
      it->second = std::make_shared<const S>(Evolve(*it->second, ref));
    };
    // A stream not loaded yet gets this event when it is (Get applies the
    // pending events of the stream).
    std::apply([&](auto&... caches) { (apply(caches), ...); }, caches_);
  }

  uint64_t VersionNow(const std::string& stream) {
    auto p = pending_.find(stream);
    return BaseVersion(stream) + (p == pending_.end() ? 0 : p->second);
  }

  ledger::Ledger* ledger_;
  Status failure_;
  SharedStates* shared_;
  std::tuple<Cache<ProductState>, Cache<UnitState>, Cache<PrincipalState>, Cache<CouncilState>,
             Cache<SubjectState>, Cache<DisputeState>, Cache<RoundState>>
      caches_;
  std::map<std::string, uint64_t> base_;     // stream -> version when first read
  std::set<std::string> loaded_;             // streams whose state was read (Get)
  std::map<std::string, uint64_t> pending_;  // stream -> events applied on top
  // The batch's decided events other than annulments, by stream, in order.
  std::map<std::string, std::vector<EventRef>> pending_events_;
  std::set<uint64_t> annulled_;  // seqs the batch's pending annulments name
  std::string effective_;
};

std::string CommandDigest(const Principal& who, schema::Command::Reader command) {
  auto words = capnp::canonicalize(command);
  auto bytes = words.asBytes();
  std::string d = who.id;
  d.push_back('\0');
  d.append(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  return d;
}

// The append of what was decided. `digest` binds the idempotency key. Not OK
// if a stream's version could not be read (the expectations would be wrong).
Status ToAppend(LedgerView& view, const Principal& who,
                std::vector<std::pair<std::string, Decided>>& decided, const std::string& key,
                const std::string& digest, ledger::AppendRequest* out) {
  ledger::AppendRequest& req = *out;
  req = ledger::AppendRequest();
  req.idempotency_key = key;
  req.idempotency_digest = digest;
  std::set<std::string> written;
  std::set<std::string> expect;  // written streams whose version the decision rests on
  for (auto& [effective, d] : decided) {
    for (auto& e : d.events) {
      if (!e.entry || view.Loaded(e.stream)) expect.insert(e.stream);
      ledger::NewEvent ne;
      ne.stream = e.stream;
      ne.type = e.type;
      ne.effective = effective;
      ne.actor = {who.id, d.role, d.unit};
      auto flat = capnp::messageToFlatArray(*e.payload);
      ne.payload.assign(reinterpret_cast<const char*>(flat.asBytes().begin()),
                        flat.asBytes().size());
      req.events.push_back(std::move(ne));
      written.insert(e.stream);
    }
  }
  // Every stream written must still be where decide read it, and so must
  // every stream decide only read (a producer, a unit, a grant): a decision
  // on a state another writer has since changed is taken again. A stream
  // that only takes entries (PendingEvent::entry) is not read, and rests on
  // no version.
  for (const auto& stream : expect) req.expected.push_back({stream, view.BaseVersion(stream)});
  for (const auto& [stream, version] : view.StreamsRead()) {
    if (!written.count(stream)) req.unchanged.push_back({stream, version});
  }
  return view.failure();
}

// Answers a repeated id from the ledger, without deciding again.
Status CheckRepeat(ledger::Ledger* ledger, const std::string& key, const std::string& digest,
                   Outcome* out, bool* repeated) {
  *repeated = false;
  if (key.empty()) return Status::OK();
  std::string bound;
  std::vector<uint64_t> seqs;
  Status s = ledger->FindIdempotencyKey(key, &bound, &seqs);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  if (bound != ledger::merkle::ToHex(ledger::merkle::Sha256(digest))) {
    return Status::Conflict("command id '" + key +
                            "' was already used for a different command; use a new id");
  }
  out->seqs = std::move(seqs);
  out->duplicate = true;
  *repeated = true;
  return Status::OK();
}

// The edge of personal data (workflow/personal_data.h): each command that
// carries personal fields, sealed into a message of its own before anything
// reads it (the decision, the idempotency digest); the others as they are.
struct SealedCommands {
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages;
  std::vector<schema::Command::Reader> commands;

  Status Add(ledger::SubjectKeys* keys, schema::Command::Reader command) {
    if (!CarriesPersonalFields(command)) {
      commands.push_back(command);
      return Status::OK();
    }
    messages.push_back(std::make_unique<capnp::MallocMessageBuilder>());
    Status s = Seal(keys, command, messages.back().get());
    commands.push_back(messages.back()->getRoot<schema::Command>().asReader());
    return s;
  }
};

// The producers whose personal data `decided` erases, in the order of its events.
std::vector<std::string> ErasedSubjects(
    const std::vector<std::pair<std::string, Decided>>& decided) {
  std::vector<std::string> subjects;
  for (const auto& [effective, d] : decided) {
    for (const auto& e : d.events) {
      auto p = e.payload->getRoot<schema::Payload>().asReader();
      if (p.isSubjectDataErased())
        subjects.emplace_back(p.getSubjectDataErased().getSubject().cStr());
    }
  }
  return subjects;
}

// Destroys the keys of the producers whose erasure `decided` records, just
// before it is appended: once the decision stands, the data is gone, even if
// the append then fails (the decision is sent again, and is not refused, as
// the log does not yet say the data was erased).
Status DestroyErasedKeys(ledger::SubjectKeys* keys,
                         const std::vector<std::pair<std::string, Decided>>& decided) {
  for (const std::string& subject : ErasedSubjects(decided)) {
    if (keys == nullptr) return Status::IOError("no key store to erase from");
    Status s = keys->Erase(subject);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

struct Service::StateCache : SharedStates {};

// Callers of Submit at the same moment, combined (Submit).
struct Service::Combiner {
  struct Call {
    Submission submission;
    Outcome* out = nullptr;
    Status status;
    std::exception_ptr thrown;
    bool done = false;
    // Its own, so that a leader wakes only the callers it answered and the
    // next leader, not every caller waiting (32 wake-ups a group at 32
    // callers, most only to sleep again).
    std::condition_variable cv;
  };
  std::mutex mu;
  std::vector<Call*> waiting;  // not yet taken by a leader, in arrival order
  bool leading = false;        // a leader is deciding and appending
};

Service::Service(ledger::Ledger* ledger)
    : ledger_(ledger),
      cache_(std::make_unique<StateCache>()),
      combiner_(std::make_unique<Combiner>()) {}
Service::~Service() = default;

// One command is a batch of one, and callers at the same moment are one
// batch: the first becomes the leader and has every command waiting decided
// and appended by SubmitEach, while later callers wait for it and the next
// of them leads the commands that came meanwhile. Each command is decided
// as if alone, as before; but commands that read or write one stream are
// put in order in SubmitEach's rounds, where callers deciding each on their
// own raced for it: a hot stream (every dossier of a year appends to the
// year's round) let one of them win each sync, and the others, deciding
// again at once on the same published version, lost again until their few
// retries ran out (decide_bench failed so at 8 and 32 writers). The server's
// committer does the same for POSTed commands (server/http_server.cc).
Status Service::Submit(const Principal& who, schema::Command::Reader command, Outcome* out) {
  Combiner& c = *combiner_;
  Combiner::Call call;
  call.submission = {who, command};
  call.out = out;
  std::unique_lock<std::mutex> l(c.mu);
  c.waiting.push_back(&call);
  call.cv.wait(l, [&] { return call.done || !c.leading; });
  if (!call.done) {
    c.leading = true;
    std::vector<Combiner::Call*> calls;
    calls.swap(c.waiting);
    l.unlock();
    std::vector<Submission> in;
    for (const Combiner::Call* x : calls) in.push_back(x->submission);
    std::vector<Status> statuses;
    std::vector<Outcome> outcomes;
    std::exception_ptr thrown;
    try {
      SubmitEach(in, &statuses, &outcomes);
    } catch (...) {
      thrown = std::current_exception();  // every caller of the batch learns of it
    }
    l.lock();
    for (size_t i = 0; i < calls.size(); ++i) {
      if (thrown) {
        calls[i]->thrown = thrown;
      } else {
        calls[i]->status = std::move(statuses[i]);
        *calls[i]->out = std::move(outcomes[i]);
      }
      calls[i]->done = true;
      // Under the lock: once done and unlocked, the call (on its caller's
      // stack) may be gone.
      if (calls[i] != &call) calls[i]->cv.notify_one();
    }
    c.leading = false;
    // The first caller that came meanwhile leads next.
    if (!c.waiting.empty()) c.waiting.front()->cv.notify_one();
  }
  if (call.thrown) std::rethrow_exception(call.thrown);
  return call.status;
}

void Service::SubmitEach(const std::vector<Submission>& in, std::vector<Status>* statuses,
                         std::vector<Outcome>* out) {
  const size_t n = in.size();
  statuses->assign(n, Status::OK());
  out->assign(n, Outcome());
  // Each command decided on its own view of the committed states, as Submit
  // decides it; those that get this far are appended together.
  struct Pending {
    size_t index;
    std::unique_ptr<LedgerView> view;
    std::vector<std::pair<std::string, Decided>> decided;
    ledger::AppendRequest request;
  };
  // In rounds, each one group commit. A command that read or writes a stream
  // an earlier command of its round writes was decided on a state that will
  // not be the committed one: it waits for the next round and is decided
  // again on what that round committed, as if it had come just after. So two
  // commands on one product cost one more round, not a failed append and a
  // sync of their own, and no command of a round rests on a read another
  // changed (the first of a round always goes: every round makes progress).
  // Personal fields sealed first; a command that cannot be sealed is not
  // decided.
  SealedCommands sealed;
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i) {
    (*statuses)[i] = sealed.Add(ledger_->subject_keys(), in[i].command);
    if ((*statuses)[i].ok()) todo.push_back(i);
  }
  std::vector<int> lost(n, 0);  // races lost to writers outside the batch
  // What a deferred command read when last decided: while an earlier command
  // of the round writes one of those, it waits again without being decided
  // (n commands on one product cost n rounds, not n^2 decisions).
  std::vector<std::vector<std::string>> last_read(n);
  // Each command's idempotency key and what it binds, made once.
  std::vector<std::string> keys(n), digests(n);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = sealed.commands[i].getId().cStr();
    if (!keys[i].empty()) digests[i] = CommandDigest(in[i].who, sealed.commands[i]);
  }
  while (!todo.empty()) {
    std::vector<size_t> next;
    std::set<std::string> written;  // by the commands of this round so far
    auto written_here = [&](const std::string& stream) { return written.count(stream) > 0; };
    std::vector<Pending> pending;
    for (size_t i : todo) {
      if (std::any_of(last_read[i].begin(), last_read[i].end(), written_here)) {
        next.push_back(i);
        continue;
      }
      Pending p{i, nullptr, {}, {}};
      // A repeated id gets the first call's result, whatever deciding it
      // again says. Its look-up (a read of the key) comes first only after
      // a lost race, where the key may be what conflicted. Otherwise a
      // command decided OK meets the ledger's own check of its key in the
      // append (the first call's numbers, appending nothing; or Conflict,
      // then looked up here in the next round for the clear message), and a
      // refused one looks its key up below, before its refusal is told.
      bool repeated = false;
      auto repeat = [&] {
        return CheckRepeat(ledger_, keys[i], digests[i], &(*out)[i], &repeated);
      };
      Status s = lost[i] > 0 ? repeat() : Status::OK();
      if (!s.ok() || repeated) {
        (*statuses)[i] = s;
        continue;
      }
      p.view = std::make_unique<LedgerView>(ledger_, cache_.get());
      p.decided.resize(1);
      p.decided[0].first = sealed.commands[i].getEffective().cStr();
      s = Decide(*p.view, in[i].who, sealed.commands[i], &p.decided[0].second);
      if (s.ok()) s = ToAppend(*p.view, in[i].who, p.decided, keys[i], digests[i], &p.request);
      last_read[i].clear();
      for (const auto& read : p.view->StreamsRead()) last_read[i].push_back(read.first);
      if (std::any_of(last_read[i].begin(), last_read[i].end(), written_here)) {
        next.push_back(i);  // refused or not, it is decided again on the fresh state
        continue;
      }
      // A refusal, or an erasure (whose keys are destroyed before the
      // append), is told only once the id is known to be new.
      if (lost[i] == 0 && (!s.ok() || !ErasedSubjects(p.decided).empty())) {
        Status r = repeat();
        if (!r.ok() || repeated) s = r;
      }
      if (!s.ok() || repeated) {
        (*statuses)[i] = s;
        continue;
      }
      for (const auto& e : p.request.events) written.insert(e.stream);
      pending.push_back(std::move(p));
    }
    std::vector<const ledger::AppendRequest*> requests;
    std::vector<size_t> kept;  // indexes into pending of what is appended
    for (size_t k = 0; k < pending.size(); ++k) {
      Status s = DestroyErasedKeys(ledger_->subject_keys(), pending[k].decided);
      if (!s.ok()) {
        (*statuses)[pending[k].index] = s;
        continue;
      }
      kept.push_back(k);
      requests.push_back(&pending[k].request);
    }
    std::vector<Status> appended;
    std::vector<ledger::AppendResult> results;
    if (!requests.empty()) ledger_->AppendEach(requests, &appended, &results);
    for (size_t k = 0; k < kept.size(); ++k) {
      Pending& p = pending[kept[k]];
      const size_t i = p.index;
      // A race lost to a writer outside this batch: decided again, as
      // Submit does, a few times at most.
      if (appended[k].IsConflict() && ++lost[i] <= 3) {
        next.push_back(i);
        continue;
      }
      (*statuses)[i] = appended[k];
      if (!appended[k].ok()) continue;
      if (!results[k].duplicate)
        p.view->Remember(p.decided[0].second, p.decided[0].first, results[k].seqs);
      (*out)[i].seqs = std::move(results[k].seqs);
      (*out)[i].duplicate = results[k].duplicate;
    }
    std::sort(next.begin(), next.end());  // arrival order, round after round
    todo = std::move(next);
  }
}

Status Service::SubmitAll(const Principal& who, const std::vector<schema::Command::Reader>& in,
                          std::vector<Outcome>* out, size_t* failed_index) {
  out->assign(in.size(), Outcome());
  *failed_index = 0;
  SealedCommands sealed;
  for (size_t i = 0; i < in.size(); ++i) {
    Status s = sealed.Add(ledger_->subject_keys(), in[i]);
    if (!s.ok()) {
      *failed_index = i;
      return s;
    }
  }
  const std::vector<schema::Command::Reader>& commands = sealed.commands;
  // One key for the whole batch, when every command carries an id.
  std::string key, digest;
  bool all_ids = !commands.empty();
  for (auto c : commands) all_ids = all_ids && c.getId().size() > 0;
  if (all_ids) {
    key = "atomic";
    for (auto c : commands) {
      key += '|';
      key += c.getId().cStr();
      digest += CommandDigest(who, c);
    }
  }
  for (int attempt = 0;; ++attempt) {
    Outcome whole;
    bool repeated = false;
    Status s = CheckRepeat(ledger_, key, digest, &whole, &repeated);
    if (!s.ok()) return s;
    std::vector<std::pair<std::string, Decided>> decided(commands.size());
    if (!repeated) {
      LedgerView view(ledger_, cache_.get());
      for (size_t i = 0; i < commands.size(); ++i) {
        decided[i].first = commands[i].getEffective().cStr();
        s = Decide(view, who, commands[i], &decided[i].second);
        if (!s.ok()) {
          *failed_index = i;
          return s;
        }
        view.set_effective(decided[i].first);
        for (const auto& e : decided[i].second.events) view.Apply(e);
      }
      ledger::AppendResult result;
      ledger::AppendRequest request;
      s = ToAppend(view, who, decided, key, digest, &request);
      if (s.ok()) s = DestroyErasedKeys(ledger_->subject_keys(), decided);
      if (s.ok()) s = ledger_->Append(request, &result);
      if (s.IsConflict() && attempt < 3) continue;  // a race, as in Submit: decide again
      if (!s.ok()) return s;
      whole.seqs = std::move(result.seqs);
      whole.duplicate = result.duplicate;
      // Hand each command its own events' numbers, in order.
      size_t next = 0;
      for (size_t i = 0; i < commands.size(); ++i) {
        for (size_t k = 0; k < decided[i].second.events.size() && next < whole.seqs.size(); ++k) {
          (*out)[i].seqs.push_back(whole.seqs[next++]);
        }
        (*out)[i].duplicate = whole.duplicate;
      }
      return Status::OK();
    }
    // A repeated batch: the numbers are those of the first time, in one list.
    for (auto& o : *out) o.duplicate = true;
    if (!out->empty()) (*out)[0].seqs = whole.seqs;
    return Status::OK();
  }
}

}  // namespace ocop::workflow
