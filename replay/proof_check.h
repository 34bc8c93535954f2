// The checks a party who trusts nobody makes on what a bundle or a receipt
// carries, as pure functions over its JSON: a checkpoint signed by the log's
// key and committing to its stream heads, an event's inclusion in that tree, a
// stream's head in that map, and the schema the log committed to. Each
// refusal is Tampered (or InvalidArgument for what is not even the right
// shape) with a message naming what failed.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/ledger.h"
#include "ledger/stream_heads.h"
#include "ledger/stream_map.h"

namespace ocop::replay {

// JSON of a stream-head proof: {"stream","version","seq","siblings":[HEX],
// "end":"head"|"empty"|"other"[,"other":{"key","version","seq"}]}.
nlohmann::ordered_json HeadProofJson(std::string_view stream, const ledger::HeadProof& p);
Status ParseHeadProof(const nlohmann::json& j, std::string* stream, ledger::HeadProof* p);

// A checkpoint note with the log's verifier key, which must be the key
// `public_key` (raw, 32 bytes) under the checkpoint's origin.
struct CheckedCheckpoint {
  ledger::Checkpoint checkpoint;
  ledger::merkle::Hash map_root{};
  std::vector<ledger::note::Verified> cosigners;  // witnesses among `witnesses`
};
Status CheckCheckpoint(std::string_view vkey, std::string_view note, std::string_view public_key,
                       CheckedCheckpoint* out,
                       const std::vector<ledger::note::VerifierKey>& witnesses = {});

// {"seq","leaf":B64,"path":[HEX]}: the leaf's bytes are event `seq` of the
// tree (size, root). *bytes receives the leaf.
Status CheckInclusion(const nlohmann::json& ev, uint64_t size, const ledger::merkle::Hash& root,
                      std::string* bytes, uint64_t* seq);

// A stream-head proof for `stream` against the map root; *head its head.
Status CheckStreamHead(const nlohmann::json& proof, std::string_view stream,
                       const ledger::merkle::Hash& map_root, ledger::StreamHead* head);

// The events of one stream ([{"seq","leaf","path"}], oldest first), each in
// the tree (size, root), of that stream, with versions 1, 2, ... and no gap,
// and, when `head` is given (its proof checked), ending exactly at it: every
// fault is added to *problems naming what is missing or wrong. *leaves
// receives the bytes of the events proved, *proved their number.
void CheckStreamEvents(const nlohmann::json& events, const std::string& stream, uint64_t size,
                       const ledger::merkle::Hash& root,
                       const std::optional<ledger::StreamHead>& head,
                       nlohmann::ordered_json* problems, std::vector<std::string>* leaves,
                       uint64_t* proved);

// The schema a bundle carries ({"PATH":TEXT}) against the schema event it
// carries ({"seq","leaf","path","stream_head"}): the event is in the tree, is
// the head of the schema stream in the map, and carries exactly these files.
Status CheckSchema(const nlohmann::json& schema, const nlohmann::json& schema_event, uint64_t size,
                   const ledger::merkle::Hash& root, const ledger::merkle::Hash& map_root);

}  // namespace ocop::replay
