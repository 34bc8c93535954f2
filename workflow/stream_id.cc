#include "workflow/stream_id.h"

#include <array>
#include <utility>

namespace ocop::workflow {
namespace {

using Kind = StreamId::Kind;

constexpr std::array<std::pair<Kind, std::string_view>, 7> kPrefixes{{
    {Kind::kProduct, "product/"},
    {Kind::kSubject, "subject/"},
    {Kind::kUnit, "unit/"},
    {Kind::kCouncil, "council/"},
    {Kind::kPrincipal, "principal/"},
    {Kind::kDispute, "dispute/"},
    {Kind::kRound, "round/"},
}};

}  // namespace

std::string StreamId::ToString() const {
  for (const auto& [k, prefix] : kPrefixes) {
    if (k == kind) return std::string(prefix) + id;
  }
  return id;
}

StreamId StreamId::Parse(std::string_view name) {
  for (const auto& [k, prefix] : kPrefixes) {
    if (name.starts_with(prefix)) return StreamId{k, std::string(name.substr(prefix.size()))};
  }
  return StreamId{Kind::kOther, std::string(name)};
}

std::string ProductStream(const std::string& id) { return StreamId{Kind::kProduct, id}.ToString(); }
std::string SubjectStream(const std::string& id) { return StreamId{Kind::kSubject, id}.ToString(); }
std::string UnitStream(const std::string& code) { return StreamId{Kind::kUnit, code}.ToString(); }
std::string CouncilStream(const std::string& id) { return StreamId{Kind::kCouncil, id}.ToString(); }
std::string PrincipalStream(const std::string& id) {
  return StreamId{Kind::kPrincipal, id}.ToString();
}
std::string DisputeStream(const std::string& id) { return StreamId{Kind::kDispute, id}.ToString(); }
std::string RoundStream(int year) {
  return StreamId{Kind::kRound, std::to_string(year)}.ToString();
}

}  // namespace ocop::workflow
