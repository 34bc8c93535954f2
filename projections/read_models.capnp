# The read models the projections keep, one struct per column family value.
# Dates are ISO text where a person may read them with `capnp decode`, and
# day numbers (days since 1970-01-01) where reports compare them in bulk.
@0xe8b41f27c9d3a605;

using Ocop = import "/workflow/ocop.capnp";
$import "/capnp/c++.capnp".namespace("ocop::projections::schema");

struct ScoreRecord {
  council @0 :Text;
  level @1 :Ocop.CouncilLevel;
  total @2 :Float64;
  stars @3 :UInt8;
  date @4 :Text;
  seq @5 :UInt64;
  rules @6 :Text;
  hardMissed @7 :List(Text);
}

struct DossierRecord {
  cycleYear @0 :UInt16;
  entry @1 :Ocop.Entry;
  submitted @2 :Text;
  scores @3 :List(ScoreRecord);
  forwarded @4 :Bool;
  forwardedTo @5 :Ocop.CouncilLevel;
  ended @6 :Bool;                       # has an outcome
  outcome @7 :Ocop.DossierOutcome;
  endedOn @8 :Text;
  enteredFrom @9 :Text;                 # the product's stage when it came in
}

struct CertificateRecord {
  no @0 :Text;
  decision @1 :Ocop.Decision;
  level @2 :Ocop.CouncilLevel;
  stars @3 :UInt8;
  validFrom @4 :Text;
  validUntil @5 :Text;
  entry @6 :Ocop.Entry;
  fewerStars @7 :Bool;
  seq @8 :UInt64;
  endedOn @9 :Text;  # empty while not superseded or revoked
  revoked @10 :Bool;
  revokeReason @11 :Ocop.RevocationReason;
  revokeDecision @12 :Ocop.Decision;
  supersededBy @13 :Text;
  renewalEntered @14 :Bool;
  renewalEnteredOn @15 :Text;  # empty unless renewalEntered
}

struct SupportRecord {
  seq @0 :UInt64;
  date @1 :Text;
  source @2 :Text;
  amountVnd @3 :UInt64;
}

# column family "products": product id -> ProductRecord, the whole folded
# state, so that the next event evolves it without reading the log again.
struct ProductRecord {
  id @0 :Text;
  name @1 :Text;
  subject @2 :Text;
  unit @3 :Text;
  group @4 :UInt8;
  cycleYear @5 :UInt16;
  imported @6 :Bool;
  stage @7 :Text;
  stageDate @8 :Text;
  rejectedOn @9 :Text;
  hasDossier @10 :Bool;
  dossier @11 :DossierRecord;
  certificates @12 :List(CertificateRecord);
  supportVnd @13 :UInt64;
  planApproved @14 :Bool;
  exists @15 :Bool;
  directEntry @16 :Bool;
  lastEffective @17 :Int32;  # day number of its latest event's effective date
  support @18 :List(SupportRecord);
  groupList @19 :Text;
}

# column family "certificates": product id, 0x00, index (4 bytes) -> one
# certificate's facts with what reports group by, copied from its product and
# producer when it was projected.
struct CertificateFact {
  product @0 :Text;
  no @1 :Text;
  stars @2 :UInt8;
  level @3 :Ocop.CouncilLevel;
  entry @4 :Ocop.Entry;
  validFrom @5 :Int32;   # day number: the decision date
  validUntil @6 :Int32;  # day number: the last valid day
  endedOn @7 :Int32;     # day number, or 2147483647 when it never ended early
  revoked @8 :Bool;
  revokeReason @9 :Ocop.RevocationReason;
  renewalEntered @10 :Bool;
  renewed @11 :Bool;     # superseded by a renewal or upgrade
  unit @12 :Text;
  group @13 :UInt8;
  subject @14 :Text;
  legalForm @15 :Ocop.LegalForm;
  womanOwned @16 :Bool;
  decisionNo @17 :Text;
  name @18 :Text;
  renewalEnteredOn @19 :Int32;  # day number of the renewal dossier, when renewalEntered
  groupList @20 :Text;          # the list `group` belongs to
}

# column family "units": code -> UnitRecord.
struct UnitRecord {
  code @0 :Text;
  name @1 :Text;
  level @2 :Ocop.UnitLevel;
  parent @3 :Text;
  retired @4 :Bool;
  successor @5 :Text;
  retiredOn @6 :Text;
}

# column family "subjects": id -> SubjectRecord.
struct SubjectRecord {
  id @0 :Text;
  name @1 :Text;
  unit @2 :Text;
  legalForm @3 :Ocop.LegalForm;
  womanOwned @4 :Bool;
  # As recorded: ciphertext when personalFields is sealed (revealed per read,
  # workflow/personal_data.h); all four empty once erased.
  representative @5 :Text;
  phone @6 :Text;
  address @7 :Text;
  personalFields @8 :Ocop.PersonalFields;
  erased @9 :Bool;
}

# column family "changes": effective day (4), seq (8) -> Change. What happened
# on a product, by date, for the monthly meeting's list.
#
# column family "report_changes": the same keys and values for only the
# events the period report counts from the log (SupportGranted,
# DossierSubmitted, DossierEnded, Certified, IdeaRegistered, IdeaReviewed,
# EventAnnulled): a tenth of the changes on a national ledger, where
# promotions and inspections are most. Every annulment is kept a second
# time under the last day (AnnulmentKey), so that the report finds all of
# them, whatever their dates, with one seek.
struct Change {
  product @0 :Text;
  name @1 :Text;
  unit @2 :Text;
  type @3 :Text;        # the event's type, e.g. "Certified"
  decision @4 :Ocop.Decision;  # when the act rests on one
  stars @5 :UInt8;      # for certificates and revocations
  annuls @6 :UInt64;    # for an annulment: the seq it annuls
  principal @7 :Text;
  role @8 :Text;
  amountVnd @9 :UInt64;  # for support granted
  source @10 :Text;      # for support granted: who paid
  sheetSet @11 :Text;    # for a score on a sheet: its criteria set
  criteria @12 :List(Ocop.CriterionPoints);  # and the points of each criterion
  # What the period report's round and ideas count by (format 7), set for the
  # events kept in "report_changes" too, so the report reads no event:
  subject @13 :Text;        # the product's producer when it happened
  entry @14 :Ocop.Entry;    # a dossier's entry kind (DossierSubmitted, DossierEnded)
  cycleYear @15 :UInt16;    # the dossier's or idea's cycle year
  outcome @16 :Ocop.DossierOutcome;  # for DossierEnded
  selected @17 :Bool;       # for IdeaReviewed: the idea was selected
}
