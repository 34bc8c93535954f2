// Receipts: a small file that proves one product's certificate state at a
// signed (and, when witnesses are configured, cosigned) checkpoint, checkable
// offline by a buyer, a bank or an inspector: tlog-proof in spirit.
//
// It carries the checkpoint note, the log's verifier key, the proof of the
// product stream's head in the checkpoint's stream-heads map, and every event
// of the stream with its inclusion proof, so that the state shown can be
// derived again from the events themselves: a receipt whose `status` is not
// what its events say, that leaves an event out, or whose checkpoint is not
// the log's, is refused. The status is the public part of `ocop status` (no
// producer, no person).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/note.h"
#include "ledger/stream_heads.h"
#include "workflow/date.h"

namespace ocop::replay {

inline constexpr const char* kReceiptFormat = "ocop-receipt-1";

// The receipt of `product` as of `as_of` (effective date), at the checkpoint
// `checkpoint_note` (a cosigned one, say) or, when it is empty, at a
// checkpoint of the whole log signed now.
Status MakeReceipt(ledger::Ledger* ledger, ledger::StreamHeads* heads, const std::string& origin,
                   const std::string& product, workflow::Date as_of,
                   const std::string& checkpoint_note, nlohmann::ordered_json* out);

// Checks a receipt offline. `log_vkey`, when given, is the log's key as the
// checker knows it (the receipt's own must be it); `witnesses` are the
// witnesses' keys whose cosignatures are checked and reported.
Status VerifyReceipt(const nlohmann::json& receipt, const std::string& log_vkey,
                     const std::vector<ledger::note::VerifierKey>& witnesses,
                     nlohmann::ordered_json* report);

}  // namespace ocop::replay
