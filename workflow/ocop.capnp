# The OCOP schema: every command the ledger accepts and every event it
# records. This file is the single definition of both; their JSON forms are
# derived from it (field names by $Json.name, else the field name in
# snake_case), and `capnp decode` reads stored events with it:
#
#   capnp decode -I/usr/include workflow/ocop.capnp OcopEvent < event.bin
#
# OcopEvent has exactly the layout of the ledger's envelope (ledger/event.capnp)
# with the payload typed, so the stored bytes decode as either.
@0xb5e1c0a4f2d3e901;

using Json = import "/capnp/compat/json.capnp";
$import "/capnp/c++.capnp".namespace("ocop::workflow::schema");

# Marks a command field that may be left out of the JSON; every other field
# of a command is required.
annotation optional @0xe2a7c4d1b3f50a11 (field) :Void;

# Marks a Text field that holds a calendar date, YYYY-MM-DD.
annotation date @0xa96b3e5d2c1f8047 (field) :Void;

# Marks an enum value that only events carry: the command parser does not
# offer it in its list of allowed values (the decider refuses it in commands).
annotation eventOnly @0xb7edcd42d353317d (enumerant) :Void;

# Marks a List(CriterionPoints) whose JSON form is an object, criterion id
# to points: {"A1.1": 3, "A1.2": 2}.
annotation pointsById @0xc3f1a2b4d5e60718 (field) :Void;

# ---------------------------------------------------------------- values

enum UnitLevel {
  province @0;
  district @1;  # abolished on 2025-07-01
  commune @2;
  national @3;  # the country, whose ministry acts for the central level
}

enum CouncilLevel {
  commune @0;
  district @1;
  province @2;
  central @3;
}

enum Role {
  admin @0;      # defines units, councils and principals
  officer @1;    # registers producers and ideas, reviews plans, in its unit and below
  council @2;    # scores for its council only
  authority @3;  # signs decisions (UBND) of its unit's level
  inspector @4;  # records inspections after recognition
  auditor @5;    # reads only
}

enum LegalForm {
  htx @0 $Json.name("HTX");    # hợp tác xã
  tht @1 $Json.name("THT");    # tổ hợp tác
  dn @2 $Json.name("DN");      # doanh nghiệp
  hkd @3 $Json.name("HKD");    # hộ kinh doanh
  cssx @4 $Json.name("CSSX");  # cơ sở sản xuất
  other @5 $Json.name("OTHER");
  # Kinds of doanh nghiệp (DN), as provinces report them; DN alone stays valid
  # for an enterprise whose kind was not recorded.
  tnhh @6 $Json.name("TNHH");  # công ty trách nhiệm hữu hạn
  ctcp @7 $Json.name("CTCP");  # công ty cổ phần
  dntn @8 $Json.name("DNTN");  # doanh nghiệp tư nhân
}

enum IdeaOutcome {
  selected @0;
  rejected @1;
}

enum PlanOutcome {
  approved @0;
  rejected @1;
}

enum Entry {
  new @0;
  renewal @1;   # công nhận lại, after 36 months
  upgrade @2;   # nâng hạng
  import @3 $eventOnly;  # certified before the ledger existed (events only)
}

enum RevocationReason {
  productionStopped @0 $Json.name("production_stopped");
  criteriaNotMet @1 $Json.name("criteria_not_met");
  violation @2;
  ownerRequest @3 $Json.name("owner_request");
  falseDossier @4 $Json.name("false_dossier");
  other @5;
  # Revocation after lapse: the last certificate ended (or will end) without
  # a renewal, and the province revokes the rating formally, often weeks
  # later and for many products in one decision (Đồng Tháp 58/QĐ-UBND-HC).
  notReevaluated @6 $Json.name("not_reevaluated");          # no re-evaluation entered in time
  failedReevaluation @7 $Json.name("failed_reevaluation");  # re-evaluation entered, not recognised
}

# How a dossier ended. A dossier not yet decided has no outcome.
enum DossierOutcome {
  recognised @0;
  notRecognised @1 $Json.name("not_recognised");
}

struct Decision {
  no @0 :Text;      # "58/QĐ-UBND-HC"
  date @1 :Text $date;  # YYYY-MM-DD
  issuer @2 :Text;  # the unit whose People's Committee signed it
}

struct Document {
  title @0 :Text;
  sha256 @1 :Text;  # 64 hex digits of the document's SHA-256
}

struct Parts {
  a @0 :Float64 $Json.name("A");  # production and community capacity
  b @1 :Float64 $Json.name("B");  # marketing capacity
  c @2 :Float64 $Json.name("C");  # product quality
}

struct CriterionPoints {
  id @0 :Text;
  points @1 :Float64;
}

# A council's scoring sheet: the points of every criterion of a criteria set
# (workflow/criteria/*.json).
struct Sheet {
  set @0 :Text;
  criteria @1 :List(CriterionPoints) $pointsById;
}

struct ApprovalItem {
  product @0 :Text;
  stars @1 :UInt8;
  certificate @2 :Text;
}

struct RevocationItem {
  product @0 :Text;
  reason @1 :RevocationReason;
}

# ---------------------------------------------------------------- commands

struct DefineUnit {
  unit @0 :Text;
  name @1 :Text;
  level @2 :UnitLevel;
  parent @3 :Text $optional;  # none for a province
}
struct RetireUnit {
  unit @0 :Text;
  successor @1 :Text;
}
struct GrantRole {
  principal @0 :Text;
  role @1 :Role;
  unit @2 :Text;
  council @3 :Text $optional;  # for role council
}
# Ends a grant from the effective date: acts dated from then on are not
# covered by it (those dated before stay covered, as they were).
struct RevokeRole {
  principal @0 :Text;
  role @1 :Role;
  unit @2 :Text;
}
# How a producer's personal fields are held in its SubjectRegistered event
# (issue 17). For a household business (HKD), a cooperative group (THT) or a
# production facility (CSSX), `name`, `representative`, `phone` and `address`
# are a person's data (Decree 13/2023/NĐ-CP): the program's edge
# (workflow/personal_data.h) seals them before the decision, so the log and
# its tree hold only ciphertext.
enum PersonalFields {
  # Recorded before the personal fields existed (schema 1): workflow/upcast.h
  # reads such an event as `plain`; nothing current carries it.
  unrecorded @0;
  plain @1;   # as given: a legal person's (DN, HTX), readable in the log
  # Each field non-empty is base64 of AES-256-GCM under the producer's own
  # erasable key (ledger/subject_keys.h), kept outside the hashed bytes.
  sealed @2;
}

# An official, by the account (principal) they sign in with: the name and
# position the ledger shows beside their acts, "Nguyễn Văn A (Chuyên viên,
# Sở NN&PTNT Cà Mau)", where the log itself keeps only the account. Recorded
# again when either changes; an act shows the record in force on its date.
# Personal data of a public servant acting in office, kept to what the
# signature block of a decision shows: no phone, address or number.
struct RegisterOfficial {
  principal @0 :Text;
  name @1 :Text $Json.name("full_name");  # "Nguyễn Văn A"
  title @2 :Text;                         # the position: "Chuyên viên", "Phó Giám đốc"
  office @3 :Text $optional;              # the agency: "Sở NN&PTNT Cà Mau"
  unit @4 :Text;                          # the unit whose admin records it
}
struct RegisterSubject {
  subject @0 :Text;
  name @1 :Text;
  legalForm @2 :LegalForm $Json.name("legal_form");
  unit @3 :Text;
  womanOwned @4 :Bool $optional $Json.name("woman_owned");
  representative @5 :Text $optional;  # the person who answers for the producer
  phone @6 :Text $optional;
  address @7 :Text $optional;
  # Set by the edge that seals (a command's own value is replaced).
  personalFields @8 :PersonalFields $optional $Json.name("personal_fields");
}
# Erases a producer's personal data by decision (Decree 13/2023/NĐ-CP, art. 16):
# its key is destroyed, so the sealed fields in the log can no longer be read
# and show "[đã xoá]"; every root, proof and bundle stays valid.
struct EraseSubjectData {
  subject @0 :Text;
  decision @1 :Decision;
}
struct ConstituteCouncil {
  council @0 :Text;
  level @1 :CouncilLevel;
  unit @2 :Text;
  decision @3 :Decision;
}
struct RegisterIdea {
  product @0 :Text;
  subject @1 :Text;
  name @2 :Text;
  group @3 :UInt8 $optional;  # 1..6; 0 or absent: not yet classified
  unit @4 :Text;
  cycleYear @5 :UInt16 $Json.name("cycle_year");
  # The list the group code belongs to (rules.capnp groupLists, e.g. QD919);
  # absent: the default of the rules in force. Events always carry it.
  groupList @6 :Text $optional $Json.name("group_list");
}
# A product already on the market that enters evaluation directly (a
# SubmitDossier with entry new), with no idea or business-plan record.
struct RegisterProduct {
  product @0 :Text;
  subject @1 :Text;
  name @2 :Text;
  group @3 :UInt8;  # 1..6, required: a dossier is scored by its group
  unit @4 :Text;
  # As in RegisterIdea: the list the group code belongs to; absent, the
  # default of the rules in force. Events always carry it.
  groupList @5 :Text $optional $Json.name("group_list");
}
struct ClassifyProduct {
  product @0 :Text;
  group @1 :UInt8;
  groupList @2 :Text $optional $Json.name("group_list");  # as in RegisterIdea
}
struct ReviewIdea {
  product @0 :Text;
  outcome @1 :IdeaOutcome;
  reason @2 :Text $optional;
}
struct SubmitPlan {
  product @0 :Text;
  document @1 :Document;
}
struct ReviewPlan {
  product @0 :Text;
  outcome @1 :PlanOutcome;
  reason @2 :Text $optional;
}
struct GrantSupport {
  product @0 :Text;
  category @1 :Text;
  amountVnd @2 :UInt64 $Json.name("amount_vnd");
  # Who pays: central, province, district, commune (the state budget, which
  # a province's cap limits), producer, credit or other.
  source @3 :Text;
}
# A province's cap on the state support one product may receive in all
# (Sóc Trăng: 300 million VND), from the effective date; 0 lifts it.
struct SetSupportCap {
  unit @0 :Text;
  capVnd @1 :UInt64 $Json.name("cap_vnd");
  decision @2 :Decision $optional;  # the provincial scheme that sets it
}
struct SubmitDossier {
  product @0 :Text;
  cycleYear @1 :UInt16 $Json.name("cycle_year");
  entry @2 :Entry;
}
struct RecordScore {
  product @0 :Text;
  council @1 :Text;
  parts @2 :Parts $optional;  # required without a sheet; with one, must agree
  mandatoryMet @3 :Bool = true $optional $Json.name("mandatory_met");
  sheet @4 :Sheet $optional;
}
struct Forward {
  product @0 :Text;
  toLevel @1 :CouncilLevel $Json.name("to_level");
}
struct ApproveResults {
  decision @0 :Decision;
  level @1 :CouncilLevel;
  items @2 :List(ApprovalItem);
  # The level's results decision for the round: the dossiers of the items'
  # cycle year that a council of this level scored within the issuer, and
  # that it does not recognise, end not_recognised.
  closesRound @3 :Bool $optional $Json.name("closes_round");
}
struct RevokeRating {
  decision @0 :Decision;
  items @1 :List(RevocationItem);
}
struct RecordInspection {
  product @0 :Text;
  compliant @1 :Bool;
  findings @2 :Text $optional;
  deadline @3 :Text $optional $date;  # for corrective action
}
struct RecordPromotion {
  product @0 :Text;
  channel @1 :Text;
}
struct ImportCertificate {
  product @0 :Text;
  subject @1 :Text;
  name @2 :Text;
  group @3 :UInt8;
  unit @4 :Text;
  stars @5 :UInt8;
  certificate @6 :Text;
  decision @7 :Decision;
  groupList @8 :Text $optional $Json.name("group_list");  # as in RegisterIdea
}
struct AnnulEvent {
  targetSeq @0 :UInt64 $Json.name("target_seq");
  reason @1 :Text;
}
struct FileDispute {
  dispute @0 :Text;
  product @1 :Text;
  claim @2 :Text;
}
struct ResolveDispute {
  dispute @0 :Text;
  outcome @1 :Text;
  decision @2 :Decision $optional;
}
struct SetTarget {
  unit @0 :Text;
  year @1 :UInt16;
  indicator @2 :Text;
  value @3 :Float64;
}

# One line of `ocop submit`, one body of POST /v1/commands.
struct Command {
  effective @0 :Text $date;                    # when the act takes legal effect
  id @1 :Text $optional;                       # idempotency key
  expectedVersion @2 :Int64 = -1 $optional $Json.name("expected_version");
  body :union $Json.flatten() $Json.discriminator(name = "type") {
    defineUnit @3 :DefineUnit $Json.flatten() $Json.name("DefineUnit");
    retireUnit @4 :RetireUnit $Json.flatten() $Json.name("RetireUnit");
    grantRole @5 :GrantRole $Json.flatten() $Json.name("GrantRole");
    registerSubject @6 :RegisterSubject $Json.flatten() $Json.name("RegisterSubject");
    constituteCouncil @7 :ConstituteCouncil $Json.flatten() $Json.name("ConstituteCouncil");
    registerIdea @8 :RegisterIdea $Json.flatten() $Json.name("RegisterIdea");
    reviewIdea @9 :ReviewIdea $Json.flatten() $Json.name("ReviewIdea");
    submitPlan @10 :SubmitPlan $Json.flatten() $Json.name("SubmitPlan");
    reviewPlan @11 :ReviewPlan $Json.flatten() $Json.name("ReviewPlan");
    grantSupport @12 :GrantSupport $Json.flatten() $Json.name("GrantSupport");
    submitDossier @13 :SubmitDossier $Json.flatten() $Json.name("SubmitDossier");
    recordScore @14 :RecordScore $Json.flatten() $Json.name("RecordScore");
    forward @15 :Forward $Json.flatten() $Json.name("Forward");
    approveResults @16 :ApproveResults $Json.flatten() $Json.name("ApproveResults");
    revokeRating @17 :RevokeRating $Json.flatten() $Json.name("RevokeRating");
    recordInspection @18 :RecordInspection $Json.flatten() $Json.name("RecordInspection");
    recordPromotion @19 :RecordPromotion $Json.flatten() $Json.name("RecordPromotion");
    importCertificate @20 :ImportCertificate $Json.flatten() $Json.name("ImportCertificate");
    annulEvent @21 :AnnulEvent $Json.flatten() $Json.name("AnnulEvent");
    fileDispute @22 :FileDispute $Json.flatten() $Json.name("FileDispute");
    resolveDispute @23 :ResolveDispute $Json.flatten() $Json.name("ResolveDispute");
    setTarget @24 :SetTarget $Json.flatten() $Json.name("SetTarget");
    classifyProduct @25 :ClassifyProduct $Json.flatten() $Json.name("ClassifyProduct");
    registerProduct @26 :RegisterProduct $Json.flatten() $Json.name("RegisterProduct");
    revokeRole @27 :RevokeRole $Json.flatten() $Json.name("RevokeRole");
    setSupportCap @28 :SetSupportCap $Json.flatten() $Json.name("SetSupportCap");
    eraseSubjectData @29 :EraseSubjectData $Json.flatten() $Json.name("EraseSubjectData");
    registerOfficial @30 :RegisterOfficial $Json.flatten() $Json.name("RegisterOfficial");
  }
}

# ---------------------------------------------------------------- events
#
# Facts, in the past tense. A command's fields are copied as given; what the
# decider derived (stars, validity, the rules applied) is recorded beside
# them, so that a reader never re-derives a past judgement under new rules.

struct IdeaRegistered {
  idea @0 :RegisterIdea;
  resubmission @1 :Bool;  # after a rejection
}
struct ScoreRecorded {
  score @0 :RecordScore;
  councilLevel @1 :CouncilLevel $Json.name("council_level");
  total @2 :Float64;
  stars @3 :UInt8;        # band of the total, capped by mandatory criteria
  rules @4 :Text;         # id of the rules in force on the effective date
  # The hard criteria of the sheet the product missed, each "ID (text)":
  # they capped `stars`.
  hardMissed @5 :List(Text) $Json.name("hard_missed");
}
struct Certified {
  product @0 :Text;
  decision @1 :Decision;
  level @2 :CouncilLevel;
  stars @3 :UInt8;
  certificate @4 :Text;
  validFrom @5 :Text $Json.name("valid_from");
  validUntil @6 :Text $Json.name("valid_until");  # last day of validity
  entry @7 :Entry;
  supersedes @8 :Text;    # the certificate this one replaces, or empty
  fewerStars @9 :Bool $Json.name("fewer_stars");  # a renewal with fewer stars: flagged
  rules @10 :Text;
  # Only for imports: the product's identity, which the import brings.
  subject @11 :Text;
  name @12 :Text;
  group @13 :UInt8;
  unit @14 :Text;
  groupList @15 :Text $Json.name("group_list");
}
struct RatingRevoked {
  product @0 :Text;
  decision @1 :Decision;
  reason @2 :RevocationReason;
  certificate @3 :Text;
  stars @4 :UInt8;
}
struct DossierEnded {
  product @0 :Text;
  cycleYear @1 :UInt16 $Json.name("cycle_year");
  entry @2 :Entry;
  outcome @3 :DossierOutcome;
  reason @4 :Text;          # why, as officials read it
  decision @5 :Decision;    # the results decision that closed the round, if any
}
# Recorded on the round's own stream (round/YEAR) when a dossier enters it,
# so that the results decision that closes the round finds every dossier.
struct RoundEntered {
  product @0 :Text;
  unit @1 :Text;
  cycleYear @2 :UInt16 $Json.name("cycle_year");
  entry @3 :Entry;
}
struct EventAnnulled {
  targetSeq @0 :UInt64 $Json.name("target_seq");
  targetType @1 :Text $Json.name("target_type");
  reason @2 :Text;
}

# The schema files that decode this log's events, as the program that
# appended it was built with: recorded on the stream schema/ocop before any
# other event, and again whenever a file changes, so that a signed checkpoint
# commits to the schema a bundle or a receipt decodes with (issue 14).
struct SchemaFile {
  name @0 :Text;  # e.g. "workflow/ocop.capnp"
  text @1 :Text;  # the file's exact text
}
struct SchemaPublished {
  files @0 :List(SchemaFile);
}

struct Payload {
  union {
    unitDefined @0 :DefineUnit $Json.name("UnitDefined");
    unitRetired @1 :RetireUnit $Json.name("UnitRetired");
    roleGranted @2 :GrantRole $Json.name("RoleGranted");
    subjectRegistered @3 :RegisterSubject $Json.name("SubjectRegistered");
    councilConstituted @4 :ConstituteCouncil $Json.name("CouncilConstituted");
    ideaRegistered @5 :IdeaRegistered $Json.name("IdeaRegistered");
    ideaReviewed @6 :ReviewIdea $Json.name("IdeaReviewed");
    planSubmitted @7 :SubmitPlan $Json.name("PlanSubmitted");
    planReviewed @8 :ReviewPlan $Json.name("PlanReviewed");
    supportGranted @9 :GrantSupport $Json.name("SupportGranted");
    dossierSubmitted @10 :SubmitDossier $Json.name("DossierSubmitted");
    scoreRecorded @11 :ScoreRecorded $Json.name("ScoreRecorded");
    forwarded @12 :Forward $Json.name("Forwarded");
    certified @13 :Certified $Json.name("Certified");
    ratingRevoked @14 :RatingRevoked $Json.name("RatingRevoked");
    inspectionRecorded @15 :RecordInspection $Json.name("InspectionRecorded");
    promotionRecorded @16 :RecordPromotion $Json.name("PromotionRecorded");
    eventAnnulled @17 :EventAnnulled $Json.name("EventAnnulled");
    disputeFiled @18 :FileDispute $Json.name("DisputeFiled");
    disputeResolved @19 :ResolveDispute $Json.name("DisputeResolved");
    targetSet @20 :SetTarget $Json.name("TargetSet");
    productClassified @21 :ClassifyProduct $Json.name("ProductClassified");
    dossierEnded @22 :DossierEnded $Json.name("DossierEnded");
    roundEntered @23 :RoundEntered $Json.name("RoundEntered");
    productRegistered @24 :RegisterProduct $Json.name("ProductRegistered");
    roleRevoked @25 :RevokeRole $Json.name("RoleRevoked");
    supportCapSet @26 :SetSupportCap $Json.name("SupportCapSet");
    schemaPublished @27 :SchemaPublished $Json.name("SchemaPublished");
    subjectDataErased @28 :EraseSubjectData $Json.name("SubjectDataErased");
    officialRegistered @29 :RegisterOfficial $Json.name("OfficialRegistered");
  }
}

struct Actor {
  principal @0 :Text;
  role @1 :Text;
  unit @2 :Text;
}

# The ledger's envelope (ledger/event.capnp) with the payload typed.
struct OcopEvent {
  seq @0 :UInt64;
  stream @1 :Text;
  version @2 :UInt64;
  type @3 :Text;
  effective @4 :Text;
  recordedAt @5 :Int64 $Json.name("recorded_at");
  actor @6 :Actor;
  idempotencyKey @7 :Text $Json.name("idempotency_key");
  payload @8 :Payload;
}
