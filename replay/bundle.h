// Dispute bundles: one self-contained file with a product's events as stored
// bytes, each with its inclusion proof, one signed tree head, the public key
// and the Cap'n Proto schemas, so that a party who does not trust the
// operator can check the history without a data directory (README: "Checking
// a bundle without this program").
//
// It also proves that nothing is left out and that its schema is the log's
// (issue 14): a checkpoint of the same tree, signed by the log's key, commits
// to every stream's head (ledger/stream_heads.h); the bundle carries the proof
// of its stream's head there, so every version from 1 to that head must be in
// it, and the schema event in force at that size (replay/schema_event.h), with
// its inclusion and head proofs, whose files must equal the schema carried,
// byte for byte.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"
#include "ledger/stream_heads.h"

namespace ocop::replay {

inline constexpr const char* kBundleFormat = "ocop-bundle-2";

// The bundle of `product` at the log's current size; `origin` is the log's
// (ledger/log_origin.h).
Status MakeBundle(ledger::Ledger* ledger, ledger::StreamHeads* heads, const std::string& origin,
                  const std::string& product, nlohmann::ordered_json* out);

// Checks everything a bundle claims, needing nothing but the bundle. *report
// lists what was checked and every problem found; Tampered if any.
Status VerifyBundle(const nlohmann::json& bundle, nlohmann::ordered_json* report);

// The schema files the bundle carries, as compiled into this program.
const char* EventSchemaText();
const char* OcopSchemaText();

}  // namespace ocop::replay
