# The OCOP rules, as data. Each entry is one set of national rules and the
# decision dates it governs; an act is judged by the entry in force on its own
# date. A new decree is a new entry at the end of `rulesInForce`, not a code
# change. The schema compiler checks every entry when the project builds.
@0xc4d9e2f1a7b60352;

$import "/capnp/c++.capnp".namespace("ocop::workflow::schema");

using Ocop = import "ocop.capnp";

struct StarBand {
  stars @0 :UInt8;
  minTotal @1 :Float64;  # inclusive lower bound of the total score
}

struct Certifier {
  stars @0 :UInt8;
  level @1 :Ocop.CouncilLevel;  # whose People's Committee signs the decision
}

struct ProductGroup {
  code @0 :UInt8;
  name @1 :Text;  # Vietnamese, as in the decree
}

# Which rules judge a dossier that straddles a decree: scored under the
# entry before this one, decided under this one.
enum Transition {
  # A score is judged by the rules in force on the scoring date (its parts'
  # maxima, bands and mandatory criteria), and it stands; who may certify,
  # and for how long, is judged by the rules on the decision date.
  scoresStand @0;
  # Scores given under earlier rules do not count: the dossier is scored again.
  rescore @1;
}

# A list of product groups. A group code means nothing without its list:
# code 4 is textiles under QĐ 1048 and handicrafts under QĐ 919/148.
struct GroupList {
  id @0 :Text;         # recorded in events beside the code, e.g. "QD919"
  name @1 :Text;       # as officials cite it, "QĐ 919"
  issued @2 :Text;     # the date of the decision that set the list
  groups @3 :List(ProductGroup);
}

# Where a group of one list falls in another, so that reports count by named
# group across lists.
struct GroupMapping {
  fromList @0 :Text;
  fromCode @1 :UInt8;
  toList @2 :Text;
  toCode @3 :UInt8;
}

struct Rules {
  id @0 :Text;             # short id recorded in events, e.g. "QD148"
  title @1 :Text;          # "QĐ 148/QĐ-TTg, 24/02/2023"
  inForceFrom @2 :Text;    # first decision date governed, YYYY-MM-DD
  maxA @3 :Float64;        # part maxima; they sum to 100
  maxB @4 :Float64;
  maxC @5 :Float64;
  bands @6 :List(StarBand);        # ascending by minTotal
  mandatoryCriteria @7 :Bool;      # each star level has criteria a product must meet
  recognisedFrom @8 :UInt8;        # lowest star level that is recognised and certified
  certifiers @9 :List(Certifier);
  forwardFrom @10 :Float64;        # a lower council forwards totals from this score upward
  groupList @11 :Text;  # the list products are classified under by default
  validityMonths @12 :UInt16;
  transition @13 :Transition;      # for dossiers scored under the entry before
  # The rules whose criteria sets (workflow/criteria/) score under these, when
  # not their own: QĐ 1489 amends QĐ 148 and keeps its sheets.
  criteriaOf @14 :Text;
}

const bands :List(StarBand) = [
  (stars = 1, minTotal = 0), (stars = 2, minTotal = 30), (stars = 3, minTotal = 50),
  (stars = 4, minTotal = 70), (stars = 5, minTotal = 90)];

const groupLists :List(GroupList) = [
  ( id = "QD1048", name = "QĐ 1048", issued = "2019-08-21",
    groups = [(code = 1, name = "Thực phẩm"), (code = 2, name = "Đồ uống"),
              (code = 3, name = "Thảo dược"), (code = 4, name = "Vải và may mặc"),
              (code = 5, name = "Lưu niệm - nội thất - trang trí"),
              (code = 6, name = "Dịch vụ du lịch nông thôn và bán hàng")] ),
  # The six groups of the 2021–2025 programme (QĐ 919/QĐ-TTg of 01/08/2022),
  # in use before QĐ 148 adopted them (Trà Vinh's plan of November 2022).
  ( id = "QD919", name = "QĐ 919", issued = "2022-08-01",
    groups = [(code = 1, name = "Thực phẩm"), (code = 2, name = "Đồ uống"),
              (code = 3, name = "Dược liệu và sản phẩm từ dược liệu"),
              (code = 4, name = "Thủ công mỹ nghệ"), (code = 5, name = "Sinh vật cảnh"),
              (code = 6, name = "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch")] )];

# Reports count by the groups of the list in use today (QĐ 919). QĐ 919's
# handicraft group takes in textiles and weaving, souvenirs, furniture and
# decoration, 1048's groups 4 and 5; 1048's herbs are 919's medicinal
# herbs; rural tourism and its sales are community tourism. 919's
# ornamental plants (5) have no group of their own under 1048.
const groupMappings :List(GroupMapping) = [
  (fromList = "QD1048", fromCode = 1, toList = "QD919", toCode = 1),
  (fromList = "QD1048", fromCode = 2, toList = "QD919", toCode = 2),
  (fromList = "QD1048", fromCode = 3, toList = "QD919", toCode = 3),
  (fromList = "QD1048", fromCode = 4, toList = "QD919", toCode = 4),
  (fromList = "QD1048", fromCode = 5, toList = "QD919", toCode = 4),
  (fromList = "QD1048", fromCode = 6, toList = "QD919", toCode = 6)];

# The list reports count by.
const reportGroupList :Text = "QD919";

const rulesInForce :List(Rules) = [
  ( id = "QD1048",
    title = "QĐ 1048/QĐ-TTg, 21/08/2019 (với QĐ 781/QĐ-TTg, 2020)",
    inForceFrom = "2019-08-21",
    maxA = 35, maxB = 25, maxC = 40,
    bands = .bands,
    mandatoryCriteria = false,
    recognisedFrom = 3,
    # The district council pre-scores and forwards; the province certifies.
    certifiers = [(stars = 3, level = province), (stars = 4, level = province),
                  (stars = 5, level = central)],
    forwardFrom = 50,
    groupList = "QD1048",
    validityMonths = 36 ),
  ( id = "QD148",
    title = "QĐ 148/QĐ-TTg, 24/02/2023",
    inForceFrom = "2023-02-24",
    maxA = 40, maxB = 25, maxC = 35,
    bands = .bands,
    mandatoryCriteria = true,
    recognisedFrom = 3,
    # The district UBND certifies 3 stars and forwards 70 points or more.
    certifiers = [(stars = 3, level = district), (stars = 4, level = province),
                  (stars = 5, level = central)],
    forwardFrom = 70,
    groupList = "QD919",
    validityMonths = 36,
    # Dossiers of the 2022 rounds scored under QĐ 1048 and decided after
    # 2023-02-24 keep their scores. A council's score is an act of its own
    # date, lawful under the rules then in force (an act is judged by its own
    # rules, DOMAIN.md); scoring again would make the producer pass a second
    # council for the same round. What changes with the decree is who signs
    # and how long the certificate runs: that is the decision's own act,
    # judged on its date (the district UBND certifies 3 stars from then on).
    transition = scoresStand ),
  ( id = "QD1489",
    title = "QĐ 1489/QĐ-TTg, 06/07/2025 (sửa đổi QĐ 148 cho chính quyền hai cấp)",
    inForceFrom = "2025-07-06",
    maxA = 40, maxB = 25, maxC = 35,
    bands = .bands,
    mandatoryCriteria = true,
    recognisedFrom = 3,
    # No district level any more: the province certifies 3 and 4 stars; the
    # commune UBND only checks parts of the dossier.
    certifiers = [(stars = 3, level = province), (stars = 4, level = province),
                  (stars = 5, level = central)],
    forwardFrom = 70,
    groupList = "QD919",
    validityMonths = 36,
    criteriaOf = "QD148",
    # QĐ 1489 keeps 148's scoring sheet and changes who certifies: scores
    # given by district councils before the reform stand, and the province
    # (the districts' successor) decides them.
    transition = scoresStand )];
