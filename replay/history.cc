#include "replay/history.h"

#include <cstdio>
#include <map>

#include "ledger/encoding.h"
#include "ledger/event_view.h"
#include "replay/officials.h"
#include "workflow/decide.h"
#include "workflow/json.h"
#include "workflow/personal_data.h"
#include "workflow/stream_fold.h"

namespace ocop::replay {

using json = nlohmann::ordered_json;

std::string FormatTimestamp(int64_t micros) {
  int64_t local = micros + int64_t{7} * 3600 * 1000000;  // Vietnam, UTC+7, no DST
  int64_t days = local / 86400000000;
  if (local < 0 && local % 86400000000) --days;
  int64_t rest = local - days * 86400000000;
  std::string date = workflow::FormatDate(workflow::Date{static_cast<int32_t>(days)});
  char buf[64];
  std::snprintf(
      buf, sizeof buf, "%sT%02lld:%02lld:%02lld.%06lld+07:00", date.c_str(),
      static_cast<long long>(rest / 3600000000), static_cast<long long>(rest / 60000000 % 60),
      static_cast<long long>(rest / 1000000 % 60), static_cast<long long>(rest % 1000000));
  return buf;
}

json EventJson(std::string_view bytes) {
  ledger::EventView view(bytes);
  if (!view.ok()) return json{{"error", view.error()}};
  auto e = view.As<workflow::schema::OcopEvent>();
  json j = json::parse(workflow::ToJson(capnp::toDynamic(e)));
  j["recorded"] = FormatTimestamp(e.getRecordedAt());
  return j;
}

json SealedProducer(ledger::Ledger* ledger, const workflow::StreamFold& product,
                    uint64_t known_at) {
  workflow::ProductState p;
  product.Fold(&p);
  workflow::StreamFold fold;
  if (p.subject.empty() ||
      !workflow::LoadStream(ledger, workflow::SubjectStream(p.subject), &fold, known_at).ok()) {
    return nullptr;
  }
  workflow::SubjectState s;
  fold.Fold(&s);
  if (!s.exists || s.personal != workflow::schema::PersonalFields::SEALED) return nullptr;
  // Erased since `known_at`: the past is shown as erased too (the key is
  // gone, and one made since for the same id would not open it).
  workflow::StreamFold now;
  if (known_at != 0 &&
      workflow::LoadStream(ledger, workflow::SubjectStream(p.subject), &now).ok()) {
    workflow::SubjectState latest;
    now.Fold(&latest);
    s.erased = s.erased || latest.erased;
  }
  workflow::Reveal(ledger->subject_keys(), &s);
  return json{{"subject", s.id},
              {"name", s.name},
              {"representative", s.representative},
              {"phone", s.phone},
              {"address", s.address}};
}

Status ProductHistory(ledger::Ledger* ledger, const std::string& product, const HistoryOptions& o,
                      json* out) {
  workflow::StreamFold fold;
  Status s = workflow::LoadStream(ledger, workflow::ProductStream(product), &fold, o.at.known_at);
  if (!s.ok()) return s;
  if (fold.events.empty()) return Status::NotFound("no product '" + product + "'");
  const uint64_t size = o.at.known_at ? o.at.known_at : ledger->Size();

  // Which event annuls which, both ways, so each is shown beside the other.
  std::map<uint64_t, uint64_t> annulled_by;
  for (const std::string& bytes : fold.events) {
    ledger::EventView v(bytes);
    auto e = v.As<workflow::schema::OcopEvent>();
    if (e.getPayload().isEventAnnulled()) {
      annulled_by[e.getPayload().getEventAnnulled().getTargetSeq()] = e.getSeq();
    }
  }
  // Who the accounts that acted are, as the log knew it at the same point.
  Officials people(ledger, o.at.known_at);
  json events = json::array();
  for (const std::string& bytes : fold.events) {
    ledger::EventView v(bytes);
    auto e = v.As<workflow::schema::OcopEvent>();
    workflow::Date effective;
    workflow::ParseDate(e.getEffective().cStr(), &effective);
    if (o.at.as_of && effective > *o.at.as_of) continue;
    json j = EventJson(bytes);
    s = people.Name(e.getActor().getPrincipal().cStr(), effective, &j["actor"]);
    if (!s.ok()) return s;
    auto by = annulled_by.find(e.getSeq());
    j["annulled_by"] = by == annulled_by.end() ? json(nullptr) : json(by->second);
    if (o.proofs) {
      ledger::InclusionProof p;
      s = ledger->Inclusion(e.getSeq(), size, &p);
      if (!s.ok()) return s;
      json path = json::array();
      for (const auto& h : p.path) path.push_back(ledger::merkle::ToHex(h));
      // `leaf` is the stored bytes themselves, so that the JSON above can be
      // checked against them (decode with the schema) and them against the hash.
      j["proof"] = json{{"index", p.seq - 1},
                        {"size", p.size},
                        {"leaf", Base64(bytes)},
                        {"leaf_hash", ledger::merkle::ToHex(p.leaf_hash)},
                        {"path", path}};
    }
    events.push_back(std::move(j));
  }
  *out = json{{"product", product}, {"events", events}};
  json producer = SealedProducer(ledger, fold, o.at.known_at);
  if (!producer.is_null()) (*out)["producer"] = std::move(producer);
  if (o.proofs) {
    ledger::SignedTreeHead head;
    s = ledger->TreeHead(size, &head);
    if (!s.ok()) return s;
    (*out)["tree_head"] = json{{"size", head.size},
                               {"root", ledger::merkle::ToHex(head.root)},
                               {"key_id", head.key_id_hex}};
    (*out)["tree_head"]["signature"] = Base64(head.signature);
  }
  return Status::OK();
}

}  // namespace ocop::replay
