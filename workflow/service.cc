#include "workflow/service.h"

#include <capnp/serialize.h>

#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "ledger/event_view.h"
#include "workflow/stream_fold.h"

namespace ocop::workflow {
namespace {

// States folded from the ledger on first use, and kept for the life of one
// decision (or one atomic batch, where pending events are applied on top).
class LedgerView : public View {
 public:
  explicit LedgerView(ledger::Ledger* ledger) : ledger_(ledger) {}

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
    out->actor_unit = view.event().getActor().getUnit().cStr();
    StreamFold fold;
    s = LoadStream(ledger_, out->stream, &fold);
    if (!s.ok()) return s;
    *annulled = fold.annulled.count(seq) > 0;
    return Status::OK();
  }

  // The version a stream had when this view first read it (0 if never).
  uint64_t BaseVersion(const std::string& stream) {
    auto it = base_.find(stream);
    if (it != base_.end()) return it->second;
    uint64_t v = 0;
    ledger_->StreamVersion(stream, &v);
    base_[stream] = v;
    return v;
  }

  // Applies a decided (not yet appended) event to the cached states, so the
  // next command of an atomic batch sees it.
  void Apply(const PendingEvent& e) {
    BaseVersion(e.stream);
    ++pending_[e.stream];
    EventRef ref;
    ParseDate(effective_, &ref.effective);
    ref.payload = e.payload->getRoot<schema::Payload>().asReader();
    ApplyTo(e.stream, ref);
  }
  void set_effective(std::string effective) { effective_ = std::move(effective); }

 private:
  template <typename S>
  using Cache = std::unordered_map<std::string, S>;

  template <typename S>
  Cache<S>& CacheOf() {
    return std::get<Cache<S>>(caches_);
  }

  template <typename S>
  Status Get(const std::string& stream, const S** out) {
    auto& cache = CacheOf<S>();
    auto it = cache.find(stream);
    if (it == cache.end()) {
      StreamFold fold;
      Status s = LoadStream(ledger_, stream, &fold);
      if (!s.ok()) return s;
      S state{};
      fold.Fold(&state);
      base_.emplace(stream, fold.version);
      it = cache.emplace(stream, std::move(state)).first;
    }
    *out = &it->second;
    return Status::OK();
  }

  void ApplyTo(const std::string& stream, const EventRef& ref) {
    auto apply = [&](auto& cache) {
      auto it = cache.find(stream);
      if (it != cache.end()) it->second = Evolve(std::move(it->second), ref);
    };
    std::apply([&](auto&... caches) { (apply(caches), ...); }, caches_);
    // A stream not loaded yet would miss this event when it is: load it now.
    bool loaded = false;
    std::apply([&](auto&... caches) { ((loaded = loaded || caches.count(stream)), ...); },
               caches_);
    if (loaded) return;
    const std::string kind = stream.substr(0, stream.find('/'));
    auto load_and_apply = [&](auto* tag) {
      using S = std::remove_pointer_t<decltype(tag)>;
      const S* ignored = nullptr;
      Get(stream, &ignored);
      auto& cache = CacheOf<S>();
      cache[stream] = Evolve(std::move(cache[stream]), ref);
    };
    if (kind == "product") load_and_apply(static_cast<ProductState*>(nullptr));
    if (kind == "unit") load_and_apply(static_cast<UnitState*>(nullptr));
    if (kind == "principal") load_and_apply(static_cast<PrincipalState*>(nullptr));
    if (kind == "council") load_and_apply(static_cast<CouncilState*>(nullptr));
    if (kind == "subject") load_and_apply(static_cast<SubjectState*>(nullptr));
    if (kind == "dispute") load_and_apply(static_cast<DisputeState*>(nullptr));
  }

  uint64_t VersionNow(const std::string& stream) {
    auto p = pending_.find(stream);
    return BaseVersion(stream) + (p == pending_.end() ? 0 : p->second);
  }

  ledger::Ledger* ledger_;
  std::tuple<Cache<ProductState>, Cache<UnitState>, Cache<PrincipalState>, Cache<CouncilState>,
             Cache<SubjectState>, Cache<DisputeState>>
      caches_;
  std::map<std::string, uint64_t> base_;     // stream -> version when first read
  std::map<std::string, uint64_t> pending_;  // stream -> events applied on top
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

// Appends what was decided. `digest` binds the idempotency key.
Status AppendDecided(ledger::Ledger* ledger, LedgerView& view, const Principal& who,
                     std::vector<std::pair<std::string, Decided>>& decided,
                     const std::string& key, const std::string& digest,
                     ledger::AppendResult* result) {
  ledger::AppendRequest req;
  req.idempotency_key = key;
  req.idempotency_digest = digest;
  std::set<std::string> written;
  for (auto& [effective, d] : decided) {
    for (auto& e : d.events) {
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
  // Every stream written must still be where decide read it.
  for (const auto& stream : written) req.expected.push_back({stream, view.BaseVersion(stream)});
  return ledger->Append(req, result);
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

}  // namespace

Status Service::Submit(const Principal& who, schema::Command::Reader command, Outcome* out) {
  *out = Outcome();
  std::string key = command.getId().cStr();
  std::string digest = key.empty() ? "" : CommandDigest(who, command);
  for (int attempt = 0;; ++attempt) {
    bool repeated = false;
    Status s = CheckRepeat(ledger_, key, digest, out, &repeated);
    if (!s.ok() || repeated) return s;
    LedgerView view(ledger_);
    std::vector<std::pair<std::string, Decided>> decided(1);
    decided[0].first = command.getEffective().cStr();
    s = Decide(view, who, command, &decided[0].second);
    if (!s.ok()) return s;
    ledger::AppendResult result;
    s = AppendDecided(ledger_, view, who, decided, key, digest, &result);
    // A version conflict here is a race with another writer, not the
    // caller's expectation (decide checked that): decide again.
    if (s.IsConflict() && attempt < 3 && command.getExpectedVersion() < 0) continue;
    if (!s.ok()) return s;
    out->seqs = std::move(result.seqs);
    out->duplicate = result.duplicate;
    return Status::OK();
  }
}

Status Service::SubmitAll(const Principal& who,
                          const std::vector<schema::Command::Reader>& commands,
                          std::vector<Outcome>* out, size_t* failed_index) {
  out->assign(commands.size(), Outcome());
  *failed_index = 0;
  // One key for the whole batch, when every command carries an id.
  std::string key, digest;
  bool all_ids = !commands.empty();
  for (auto c : commands) all_ids = all_ids && c.getId().size() > 0;
  if (all_ids) {
    key = "atomic";
    for (auto c : commands) {
      key += "|" + std::string(c.getId().cStr());
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
      LedgerView view(ledger_);
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
      s = AppendDecided(ledger_, view, who, decided, key, digest, &result);
      bool caller_versions = false;
      for (auto c : commands) caller_versions = caller_versions || c.getExpectedVersion() >= 0;
      if (s.IsConflict() && attempt < 3 && !caller_versions) continue;
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
