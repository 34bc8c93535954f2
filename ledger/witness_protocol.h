// The HTTP protocol of c2sp.org/tlog-witness, as values: a log asks a witness
// to cosign with
//
//   POST /add-checkpoint
//   old SIZE\n                       the size the log believes the witness has
//   BASE64(hash)\n ...               the consistency proof from SIZE to the new size
//   \n
//   CHECKPOINT NOTE                  signed by the log
//
// and the witness answers 200 with its cosignature line(s), or 409 with its
// own last size (text/x.tlog.size) when `old` is not it, 422 when the proof
// does not verify (a fork), 403 when the log's signature does not, 404 for a
// log it does not witness, 400 for anything else malformed.
//
// WitnessAddCheckpoint is the witness's whole decision and state change, shared
// by `ocop witness cosign` and the HTTP route: check against the state kept
// for the origin (ledger/witness.h's CheckAppendOnly), record, cosign.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/witness.h"

namespace ocop::ledger {

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<merkle::Hash> proof;
  std::string checkpoint;  // the note
};
std::string FormatAddCheckpoint(const AddCheckpointRequest& r);
Status ParseAddCheckpoint(std::string_view body, AddCheckpointRequest* out);

// The witness's answer. `http_status` is what the protocol answers: 200 with
// `body` the cosignature line; 409 with `body` the witness's size; else the
// refusal in `status`.
struct AddCheckpointAnswer {
  int http_status = 200;
  std::string body;
  Status status;
  std::string cosigned;  // 200: the whole note with the cosignature added
};

// `logs`: the log keys this witness witnesses. `proof`, if given, is from
// the witness's last size; `old_size` (nullopt: not stated, as `ocop witness
// cosign` takes it from the proof) must be that size when stated.
AddCheckpointAnswer WitnessAddCheckpoint(WitnessStore* store, const WitnessKey& key,
                                         const std::vector<note::VerifierKey>& logs,
                                         std::string_view checkpoint,
                                         std::optional<uint64_t> old_size,
                                         const std::optional<ConsistencyProof>& proof,
                                         uint64_t now);

}  // namespace ocop::ledger
