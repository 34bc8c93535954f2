// The states the decider reads, as plain values, and evolve: how one event
// changes them. Every state is the fold of its stream's events, leaving out
// the events an EventAnnulled of the same stream names.
//
// Expiry is never stored: a certificate is active up to and including its
// valid_until and lapsed after, for whatever date is asked (Stage() below).
#pragma once

#include <capnp/message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "workflow/date.h"
#include "workflow/ocop.capnp.h"

namespace ocop::workflow {

using schema::CouncilLevel;
using schema::Entry;
using schema::LegalForm;
using schema::Role;
using schema::UnitLevel;

struct DecisionRef {
  std::string no;
  Date date;
  std::string issuer;
  bool operator==(const DecisionRef&) const = default;
};

struct UnitState {
  bool exists = false;
  std::string code, name, parent;
  UnitLevel level = UnitLevel::PROVINCE;
  bool retired = false;
  std::string successor;
  Date retired_on;
  // The caps on state support per product this unit (a province) set, by
  // effective date, oldest first; a cap of 0 lifts the one before.
  std::vector<std::pair<Date, uint64_t>> support_caps;
  // The cap in force on `date`, if any.
  std::optional<uint64_t> SupportCapOn(Date date) const;
};

struct Grant {
  Role role = Role::AUDITOR;
  std::string unit;
  std::string council;
  Date from;                  // the grant's effective date: acts dated before it are not covered
  std::optional<Date> until;  // revoked from this date: acts dated on or after it are not covered
  bool CoversDate(Date d) const { return from <= d && (!until || d < *until); }
};

// Who an account is, as RegisterOfficial recorded it from `from` on.
struct Official {
  Date from;
  std::string name, title, office, unit;
};

struct PrincipalState {
  std::vector<Grant> grants;
  std::vector<Official> officials;  // in effective-date order
  // The record in force on `d`: the latest from on or before it, else the
  // first (a name recorded after the act still names who acted); nullptr if
  // none was recorded.
  const Official* OfficialOn(Date d) const;
};

struct CouncilState {
  bool exists = false;
  std::string id, unit;
  CouncilLevel level = CouncilLevel::DISTRICT;
  DecisionRef decision;
};

struct SubjectState {
  bool exists = false;
  std::string id, name, unit;
  LegalForm legal_form = LegalForm::OTHER;
  bool woman_owned = false;
  // As recorded: ciphertext while `personal` is sealed (workflow/personal_data.h
  // reveals them for a read), cleared once erased.
  std::string representative, phone, address;
  schema::PersonalFields personal = schema::PersonalFields::PLAIN;
  bool erased = false;  // EraseSubjectData recorded: the sealed fields are gone
};

// The products that entered a round (a cycle year), in order of entry.
struct RoundState {
  std::vector<std::string> products;
};

struct DisputeState {
  bool exists = false;
  std::string id, product, claim;
  bool resolved = false;
};

enum class Stage {
  kNone,
  kIdeaRegistered,
  kIdeaSelected,
  kIdeaRejected,
  kPlanSubmitted,
  kPlanApproved,
  kPlanRejected,
  kDossierSubmitted,
  kScored,
  kCertified,
  kExpired,  // only ever computed, from a certified stage and a date
  kRevoked,
  kRegistered,  // registered for direct entry (RegisterProduct)
};
std::string_view StageName(Stage stage);
bool ParseStage(std::string_view name, Stage* out);

struct Score {
  std::string council;
  CouncilLevel level = CouncilLevel::DISTRICT;
  double total = 0;
  int stars = 0;
  Date date;
  uint64_t seq = 0;
  std::string rules;                     // id of the rules it was given under
  std::vector<std::string> hard_missed;  // hard criteria of its sheet it missed
  bool operator==(const Score&) const = default;
};

// A dossier entered for evaluation. It stays open until it ends: recognised
// by a certificate, or not recognised (a score below the recognised stars,
// or the level's results decision that closed its round without it).
struct Dossier {
  int cycle_year = 0;
  Entry entry = Entry::NEW;
  Date submitted;
  std::vector<Score> scores;
  std::optional<CouncilLevel> forwarded_to;
  std::optional<schema::DossierOutcome> outcome;  // none while open
  Stage entered_from = Stage::kNone;              // the product's stage when the dossier came in
  Date ended;                                     // when outcome is set
  bool open() const { return !outcome; }
  bool operator==(const Dossier&) const = default;
};

// One certificate's whole life. It is in force from valid_from through
// valid_until (the last valid day), unless it ended earlier: superseded by a
// renewal or upgrade, or revoked, on ended_on (no longer in force that day).
struct Certificate {
  std::string no;
  DecisionRef decision;
  CouncilLevel level = CouncilLevel::PROVINCE;
  int stars = 0;
  Date valid_from, valid_until;
  Entry entry = Entry::NEW;
  bool fewer_stars = false;  // a renewal that gave fewer stars
  uint64_t seq = 0;          // of the Certified event
  std::optional<Date> ended_on;
  bool revoked = false;
  schema::RevocationReason revoke_reason = schema::RevocationReason::OTHER;
  DecisionRef revoke_decision;
  std::string superseded_by;
  bool renewal_entered = false;  // a renewal or upgrade dossier came in while in force
  Date renewal_entered_on;       // the first such dossier's date, when renewal_entered

  bool InForceOn(Date date) const {
    return valid_from <= date && date <= valid_until && (!ended_on || date < *ended_on);
  }
  bool operator==(const Certificate&) const = default;
};

// One grant of support, as the cap and the report by source need it.
struct SupportGrant {
  uint64_t seq = 0;
  Date date;
  std::string source;
  uint64_t amount_vnd = 0;
  bool operator==(const SupportGrant&) const = default;
};

// Whether support from `source` is state budget, which a province's cap per
// product limits: central, province, district, commune. A producer's own
// money and credit are recorded and reported, never capped.
bool StateBudgetSource(std::string_view source);

struct ProductState {
  bool exists = false;
  std::string id, name, subject, unit;
  int group = 0;           // 0: not yet classified
  std::string group_list;  // the list the code belongs to, e.g. "QD919"
  int cycle_year = 0;
  bool imported = false;
  Stage stage = Stage::kNone;  // as recorded; see StageOn for dates
  Date stage_date;
  std::optional<Date> rejected_on;        // of the idea, for the 7-day rule
  std::optional<Dossier> dossier;         // the latest dossier, open or ended
  std::vector<Certificate> certificates;  // every certificate issued, oldest first
  Date last_effective;  // the latest effective date of its events: acts dated before are back-dated
  uint64_t support_vnd = 0;           // every grant, whatever its source
  std::vector<SupportGrant> support;  // the grants, in the order recorded
  bool plan_approved = false;         // state support is only for approved plans
  bool direct_entry = false;          // registered by RegisterProduct: enters as new without a plan

  // The certificate in force on `date`: issued, not ended, not lapsed.
  const Certificate* ActiveOn(Date date) const;
  // The last certificate issued, unless it was superseded or revoked; it may
  // have lapsed (expiry is a matter of the date asked).
  const Certificate* Current() const;
  // The dossier under evaluation, if any.
  const Dossier* OpenDossier() const { return dossier && dossier->open() ? &*dossier : nullptr; }
  // none (never certified by `date`), in_force, lapsed (ended without
  // renewal, not revoked) or revoked: the state of its last certificate.
  std::string_view CertificateStateOn(Date date) const;
  // The stage on `date`: kExpired when the current certificate lapsed by then.
  Stage StageOn(Date date) const;
  // Support from the state budget granted so far (what a cap limits).
  uint64_t StateSupportVnd() const;
  bool operator==(const ProductState&) const = default;
};

// An event as evolve sees it: its numbers and its typed payload.
struct EventRef {
  uint64_t seq = 0;
  Date effective;
  schema::Payload::Reader payload;
};

// One event of a product's stream, owning a copy of its payload: for
// judging an act on an earlier date (workflow/admissible.h).
struct ProductEvent {
  uint64_t seq = 0;  // 0: decided, not yet appended
  Date effective;
  std::string type;  // the payload's JSON name, e.g. "InspectionRecorded"
  std::shared_ptr<capnp::MallocMessageBuilder> payload;  // root: schema::Payload
  EventRef Ref() const;
};
ProductEvent CopyEvent(const EventRef& e);

// Pure: the state after one more event. Events of other kinds are ignored.
ProductState Evolve(ProductState state, const EventRef& event);
UnitState Evolve(UnitState state, const EventRef& event);
PrincipalState Evolve(PrincipalState state, const EventRef& event);
CouncilState Evolve(CouncilState state, const EventRef& event);
SubjectState Evolve(SubjectState state, const EventRef& event);
DisputeState Evolve(DisputeState state, const EventRef& event);
RoundState Evolve(RoundState state, const EventRef& event);

DecisionRef ToDecisionRef(schema::Decision::Reader d);

}  // namespace ocop::workflow
