// The streams of the OCOP ledger: one per thing, named "KIND/ID" (the ledger
// itself treats names as opaque text). StreamId is the one format and the one
// parse of those names.
#pragma once

#include <string>
#include <string_view>

namespace ocop::workflow {

struct StreamId {
  enum class Kind {
    kProduct,    // product/ID
    kSubject,    // subject/ID (a producer)
    kUnit,       // unit/CODE
    kCouncil,    // council/ID
    kPrincipal,  // principal/ID (their role grants)
    kDispute,    // dispute/ID
    kRound,      // round/YEAR
    kOther,      // a name of no kind above (never written by this program)
  };
  Kind kind = Kind::kOther;
  std::string id;  // for kOther, the whole name

  // "product/P1".
  std::string ToString() const;
  // The name's kind and id; kOther (with the whole name) for any other name.
  static StreamId Parse(std::string_view name);
};

// The names of the streams, one per kind of thing.
std::string ProductStream(const std::string& id);
std::string SubjectStream(const std::string& id);
std::string UnitStream(const std::string& code);
std::string CouncilStream(const std::string& id);
std::string PrincipalStream(const std::string& id);
std::string DisputeStream(const std::string& id);
std::string RoundStream(int year);

}  // namespace ocop::workflow
