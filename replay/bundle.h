// Dispute bundles: one self-contained file with a product's events as stored
// bytes, each with its inclusion proof, one signed tree head, the public key
// and the Cap'n Proto schemas, so that a party who does not trust the
// operator can check the history without a data directory (README: "Checking
// a bundle without this program").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "ledger/ledger.h"

namespace ocop::replay {

inline constexpr const char* kBundleFormat = "ocop-bundle-1";

Status MakeBundle(ledger::Ledger* ledger, const std::string& product, nlohmann::ordered_json* out);

// Checks everything a bundle claims, needing nothing but the bundle. *report
// lists what was checked and every problem found; Tampered if any.
Status VerifyBundle(const nlohmann::json& bundle, nlohmann::ordered_json* report);

// The schema files the bundle carries, as compiled into this program.
const char* EventSchemaText();
const char* OcopSchemaText();

}  // namespace ocop::replay
