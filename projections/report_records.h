// The period report's own records (projections format 8): fixed layouts the
// report reads in place, naming products, producers, units, group lists and
// support sources by numbers the fold gave them, so that a national report
// (two hundred thousand certificates, a hundred thousand changes a year)
// indexes arrays instead of hashing text, and decodes no Cap'n Proto message.
//
//   report_ids      kind, text     -> number (4 bytes, big-endian)
//                   KIND, number   -> text (the kind's letter in upper case)
//   report_facts    product number -> FactHead, then FactHead::certificates
//                                     FactCerts (the product's certificates,
//                                     with its producer's, as "certificates")
//   report_changes  effective day, seq -> ChangeRow (the changes the report
//                                     counts; every annulment again under
//                                     AnnulmentKey)
//
// Invariants: numbers of one kind are 0, 1, ... in the order the fold first
// met each text in the log, and never change: a rebuild and the live fold
// number alike, so they store the same bytes. Values are the structs' bytes
// (little-endian, no padding left uninitialised).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ocop::projections {

static_assert(std::endian::native == std::endian::little,
              "the report's records are stored in the machine's own layout");

// What the fold numbers for the report; the letter is the key's first byte.
enum class IdKind : char {
  kProduct = 'p',
  kSubject = 's',
  kUnit = 'u',
  kGroupList = 'l',
  kSource = 'c',
};
inline constexpr IdKind kIdKinds[] = {IdKind::kProduct, IdKind::kSubject, IdKind::kUnit,
                                      IdKind::kGroupList, IdKind::kSource};
inline constexpr size_t kIdKindCount = 5;
size_t KindIndex(IdKind kind);  // 0 .. kIdKindCount - 1

// report_ids keys: text -> number, and number -> text.
std::string IdKey(IdKind kind, std::string_view text);
std::string IdNumberKey(IdKind kind, uint32_t number);

// A product's part of its report_facts value: what every certificate of it
// shares (its unit, group and producer when it was projected).
struct FactHead {
  uint32_t unit = 0;  // numbers (report_ids)
  uint32_t subject = 0;
  uint32_t group_list = 0;  // the list `group` belongs to
  uint16_t certificates = 0;
  uint8_t group = 0;
  uint8_t legal_form = 0;  // schema LegalForm
  uint8_t woman_owned = 0;
  uint8_t pad[3] = {0, 0, 0};
};
static_assert(sizeof(FactHead) == 20);

// One certificate, as CertificateFact has it (day numbers).
struct FactCert {
  enum Flags : uint8_t { kRevoked = 1, kRenewalEntered = 2, kRenewed = 4 };
  int32_t valid_from = 0;   // the decision date
  int32_t valid_until = 0;  // the last valid day
  int32_t ended_on = 0;     // kNeverEnded when it never ended early
  int32_t renewal_entered_on = 0;
  uint8_t stars = 0;
  uint8_t entry = 0;          // schema Entry
  uint8_t revoke_reason = 0;  // schema RevocationReason
  uint8_t flags = 0;
  bool revoked() const { return flags & kRevoked; }
  bool renewal_entered() const { return flags & kRenewalEntered; }
  bool renewed() const { return flags & kRenewed; }
};
static_assert(sizeof(FactCert) == 20);

// One change the report counts.
struct ChangeRow {
  enum Type : uint8_t {
    kSupportGranted = 1,
    kDossierSubmitted,
    kDossierEnded,
    kCertified,
    kIdeaRegistered,
    kIdeaReviewed,
    kEventAnnulled,
  };
  uint64_t amount_vnd = 0;  // support granted
  uint64_t annuls = 0;      // an annulment: the seq it annuls
  uint32_t product = 0;     // numbers (report_ids)
  uint32_t unit = 0;        // the product's, when it happened
  uint32_t subject = 0;     // the product's producer, when it happened
  uint32_t source = 0;      // support granted: who paid
  uint16_t cycle_year = 0;  // the dossier's or idea's
  uint8_t type = 0;
  uint8_t entry = 0;     // a dossier's (schema Entry)
  uint8_t outcome = 0;   // DossierEnded (schema DossierOutcome)
  uint8_t stars = 0;     // Certified
  uint8_t selected = 0;  // IdeaReviewed: the idea was selected
  uint8_t pad = 0;
};
static_assert(sizeof(ChangeRow) == 40);

// Reads a T stored at `at` (any alignment).
template <typename T>
T ReadRecord(const char* at) {
  T out;
  std::memcpy(&out, at, sizeof(T));
  return out;
}
template <typename T>
void AppendRecord(const T& record, std::string* out) {
  out->append(reinterpret_cast<const char*>(&record), sizeof(T));
}

}  // namespace ocop::projections
