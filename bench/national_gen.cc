// national_gen: a deterministic national-scale OCOP history, for the scale
// benchmarks (bench/national_bench.cc, bench/national_pg.cc, national.sh).
//
//   national_gen --dir DIR [--events N] [--seed S]
//
// Writes a new ledger in DIR holding exactly N events (default 10 million;
// fewer only if the history runs out, which it says) of ten yearly cycles,
// 2019 to 2028, in 34 provinces with about 3,300 communes in some 730
// districts until the reform of 2025-07-01 retires the districts, and N/500
// producers (20,000 at 10 million). Products go idea -> plan -> support ->
// dossier -> council scores -> forwarding -> ApproveResults decisions (one per
// issuing unit and round, many products each) -> inspections, trade
// promotions, renewals, upgrades and revocations, each act under the rules in
// force on its date (QĐ 1048, 148, 1489) and by the level those rules name.
//
// Every event is produced by workflow::Decide itself, over an in-memory View
// of the states this program folds with workflow::Evolve as it goes: the
// events are exactly those `ocop submit` would have recorded for the same
// commands by the same principals (the bootstrap admin grant is the only
// superuser act), after the schema event that `ocop` records first when it
// opens a ledger for writing. A command Decide refuses is a bug here and stops
// the run.
// Only the I/O differs: events are appended in large batches, without
// idempotency keys, expectations or WAL syncs, and each batch is recorded at
// a simulated time (the day after its last act), so that --known-at
// timestamps and recording-time reports mean something.
//
// The same --events and --seed give the same ledger, byte for byte, except
// for the signing key (and so the signatures), which is random, as long as
// the program's schema files are the same (the schema event carries them).
// Randomness is counter-based (a hash of seed, thing and purpose), so one
// decision does not shift every later one.
//
// One product, named on stdout as bundle_product=, has exactly 100 events:
// the dispute-bundle figure of issue 5 verifies it. DIR/national.json records
// the parameters, that product, and a product sample for the benchmarks.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness.h"
#include "ledger/ledger.h"
#include "replay/schema_event.h"
#include "workflow/decide.h"
#include "workflow/rules.h"
#include "workflow/states_view.h"

namespace ocop::bench {
namespace {

namespace S = workflow::schema;
using workflow::CouncilLevel;
using workflow::Date;
using workflow::FormatDate;
using workflow::FromCivil;
using workflow::ProductState;
using workflow::Stage;

const char* const kUsage = "usage: national_gen --dir DIR [--events N] [--seed S]\n";

constexpr int kFirstYear = 2019, kLastYear = 2028;
constexpr int kMonths = (kLastYear - kFirstYear + 1) * 12;
const Date kReform = FromCivil(2025, 7, 1);

// ---------------------------------------------------------------- randomness

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
// Purposes, so that each kind of choice has its own stream of numbers.
enum Why : uint64_t {
  kProvinceSize = 1,
  kCommuneOf,
  kLegalForm,
  kWoman,
  kSubjectOf,
  kQuality,
  kGroup,
  kName,
  kIdeaOutcome,
  kResubmit,
  kPlanOutcome,
  kSupport,
  kDossier,
  kRenew,
  kUpgrade,
  kScore,
  kMandatory,
  kJitter,
  kInspect,
  kCompliant,
  kRevoke,
  kReason,
  kReenter,
  kPromo,
  kStar5,
};
struct Rng {
  uint64_t seed;
  uint64_t H(uint64_t why, uint64_t a, uint64_t b = 0, uint64_t c = 0) const {
    return Mix(seed ^ Mix(why ^ Mix(a ^ Mix(b ^ Mix(c)))));
  }
  double U(uint64_t why, uint64_t a, uint64_t b = 0, uint64_t c = 0) const {
    return static_cast<double>(H(why, a, b, c) >> 11) * 0x1.0p-53;
  }
  int Int(int lo, int hi, uint64_t why, uint64_t a, uint64_t b = 0, uint64_t c = 0) const {
    return lo + static_cast<int>(H(why, a, b, c) % static_cast<uint64_t>(hi - lo + 1));
  }
};

std::string Hex64(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, a, b, c,
                d);
  return buf;
}

// ---------------------------------------------------------------- the country

// The 34 provinces and cities after the 2025 reform (listed for every year:
// the province merges are not modelled, only the districts' abolition).
const char* const kProvinces[34] = {
    "Hà Nội",     "Huế",         "Lai Châu",       "Điện Biên",  "Sơn La",   "Lạng Sơn",
    "Quảng Ninh", "Thanh Hóa",   "Nghệ An",        "Hà Tĩnh",    "Cao Bằng", "Tuyên Quang",
    "Lào Cai",    "Thái Nguyên", "Phú Thọ",        "Bắc Ninh",   "Hưng Yên", "Hải Phòng",
    "Ninh Bình",  "Quảng Trị",   "Đà Nẵng",        "Quảng Ngãi", "Gia Lai",  "Khánh Hòa",
    "Lâm Đồng",   "Đắk Lắk",     "TP Hồ Chí Minh", "Đồng Nai",   "Tây Ninh", "Cần Thơ",
    "Vĩnh Long",  "Đồng Tháp",   "Cà Mau",         "An Giang"};
const char* const kSyllables[] = {
    "An",    "Bình",  "Phú",   "Tân",  "Long",  "Hòa",  "Thạnh", "Mỹ",    "Hưng",
    "Lộc",   "Phước", "Thới",  "Đông", "Tây",   "Nam",  "Bắc",   "Trung", "Vĩnh",
    "Khánh", "Hiệp",  "Thuận", "Lợi",  "Quang", "Sơn",  "Hải",   "Giang", "Cát",
    "Điền",  "Xuân",  "Thu",   "Hạ",   "Ninh",  "Định", "Châu",  "Thành", "Đức"};
constexpr size_t kSyllableCount = sizeof kSyllables / sizeof kSyllables[0];
const char* const kKinds[7][5] = {
    {},
    {"Mật ong", "Nước mắm", "Bánh tráng", "Gạo thơm", "Khô cá"},
    {"Rượu", "Trà", "Cà phê", "Nước cốt dừa", "Rượu sim"},
    {"Cao dược liệu", "Tinh dầu", "Trà thảo mộc", "Nghệ tinh bột", "Sâm"},
    {"Đan lát", "Gốm", "Thổ cẩm", "Chiếu cói", "Mây tre"},
    {"Mai vàng", "Bonsai", "Lan rừng", "Cá cảnh", "Kiểng lá"},
    {"Điểm du lịch", "Homestay", "Du lịch sinh thái", "Làng nghề", "Vườn trái cây"}};
const char* const kChannels[] = {"hội chợ OCOP",  "sàn thương mại điện tử",
                                 "điểm bán OCOP", "livestream",
                                 "siêu thị",      "xuất khẩu"};
const char* const kSupportKinds[] = {"vốn", "bao bì, nhãn mác", "đào tạo", "nghiên cứu phát triển",
                                     "xúc tiến thương mại"};
const char* const kLegalPrefix[] = {"HTX", "THT", "Công ty TNHH", "Hộ kinh doanh", "Cơ sở"};

std::string PlaceName(const Rng& r, uint64_t a, uint64_t b) {
  return std::string(kSyllables[r.H(kName, a, b, 1) % kSyllableCount]) + " " +
         kSyllables[r.H(kName, a, b, 2) % kSyllableCount];
}

struct Province {
  std::string code, name;
  std::vector<int> districts, communes;
};
struct District {
  std::string code;
  int province;
};
struct Commune {
  std::string code;
  int district, province;
};
struct Subject {
  std::string id;
  int commune;
  S::LegalForm form;
  bool woman;
  int first_year = 9999;
};
struct Product {
  std::string id;
  int subject, commune, district, province;
  int year, group;
  double quality;
  bool special = false;  // the product of exactly 100 events
  bool flagged = false;  // a non-compliant inspection since the last revocation round
  Date last;             // its latest act: its events stay in date order
  uint32_t events = 0;
  ProductState* state = nullptr;
};

// ---------------------------------------------------------------- the generator

class Generator {
 public:
  Generator(ledger::Ledger* ledger, uint64_t events, uint64_t seed)
      : ledger_(ledger), target_(events), rng_{seed} {}

  void Run();
  uint64_t emitted() const { return emitted_; }
  const Product& special() const { return products_[special_]; }
  const std::vector<Product>& products() const { return products_; }
  size_t subjects() const { return subjects_.size(); }
  size_t units() const { return 1 + provinces_.size() + districts_.size() + communes_.size(); }
  const std::map<std::string, uint64_t>& by_type() const { return by_type_; }
  Date last_date() const { return last_date_; }

 private:
  using Body = S::Command::Body::Builder;
  template <typename Fill>
  bool Submit(const workflow::Principal& who, Date effective, Fill fill);
  void Flush();
  int64_t RecordedAfter(Date last) const;

  void Schema();
  void Country();
  void People();
  void Year(int y);
  void Revocations(int y);
  void Targets(int y);
  void RegisterSubjects(int y);
  void Ideas(int y);
  void Plans(int y);
  void Support(int y);
  void Dossiers(int y);
  void FirstScores(int y);
  void ForwardToProvince(int y);
  void DistrictDecisions(int y, Date date);
  void ProvinceScores(int y);
  void ProvinceDecisions(int y);
  void ForwardToCentral(int y);
  void CentralScores(int y);
  void CentralDecisions(int y);
  void LateDecisions(int y);
  void RetireDistricts();
  void Monthly(int y, int m);

  // Helpers.
  workflow::Principal Officer(const Product& p, Date d) const {
    return {d < kReform ? "officer@" + districts_[p.district].code
                        : "officer@" + provinces_[p.province].code,
            false};
  }
  // A day from d0 to d1 of month m of year y.
  Date Jitter(int y, int m, int d0, int d1, uint64_t why, uint64_t a, uint64_t b = 0) const {
    return FromCivil(y, static_cast<unsigned>(m), 1) + (rng_.Int(d0, d1, kJitter, why, a, b) - 1);
  }
  Date Clamp(const Product& p, Date d) const { return std::max(d, p.last); }
  void Score(Product& p, const std::string& council, Date d, int y);
  struct Item {
    int product;
    int stars;
  };
  void Approve(const std::string& issuer, CouncilLevel level, Date date,
               const std::vector<Item>& items);
  std::string DecisionNo(const std::string& issuer, int y);
  bool Done() const { return emitted_ >= target_; }
  std::optional<workflow::Rules> RulesOn(Date d) const { return workflow::RulesInForce(d); }

  ledger::Ledger* ledger_;
  uint64_t target_;
  Rng rng_;
  workflow::StatesView view_;  // the states decided so far
  std::vector<Province> provinces_;
  std::vector<District> districts_;
  std::vector<Commune> communes_;
  std::vector<Subject> subjects_;
  std::vector<Product> products_;
  std::unordered_map<std::string, int> product_index_;
  size_t special_ = 0;

  uint64_t next_seq_ = 1, emitted_ = 0;
  ledger::AppendRequest pending_;
  Date pending_last_{0};
  Date last_date_{0};
  int64_t recorded_ = 0;
  std::map<std::string, int> decision_counter_;  // issuer|year -> last number
  std::map<std::string, uint64_t> by_type_;
  int month_index_ = 0;  // months simulated so far

 public:
  int64_t recorded() const { return recorded_; }
};

// Decides one command and queues its events; false once the run holds its
// N events (the events beyond are dropped: a prefix of a multi-product
// decision is what Decide gives for the same decision with fewer items).
template <typename Fill>
bool Generator::Submit(const workflow::Principal& who, Date effective, Fill fill) {
  if (Done()) return false;
  capnp::MallocMessageBuilder msg(512);
  auto cmd = msg.initRoot<S::Command>();
  std::string eff = FormatDate(effective);
  cmd.setEffective(eff);
  fill(cmd.getBody());
  workflow::Decided decided;
  Status s = workflow::Decide(view_, who, cmd.asReader(), &decided);
  if (!s.ok()) {
    Fail("generator: Decide refused a command of " + who.id + " on " + eff + ": " + s.ToString());
  }
  for (auto& e : decided.events) {
    if (Done()) break;
    uint64_t seq = next_seq_++;
    workflow::EventRef ref{seq, effective, e.payload->getRoot<S::Payload>().asReader()};
    view_.Apply(e.stream, ref);
    if (workflow::StreamId id = workflow::StreamId::Parse(e.stream);
        id.kind == workflow::StreamId::Kind::kProduct) {
      auto it = product_index_.find(id.id);
      if (it != product_index_.end()) {
        Product& p = products_[it->second];
        ++p.events;
        p.last = std::max(p.last, effective);
      }
    }
    ++by_type_[e.type];
    ledger::NewEvent ne;
    ne.stream = std::move(e.stream);
    ne.type = e.type;
    ne.effective = eff;
    ne.actor = {who.id, decided.role, decided.unit};
    auto flat = capnp::messageToFlatArray(*e.payload);
    ne.payload.assign(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
    pending_.events.push_back(std::move(ne));
    pending_last_ = std::max(pending_last_, effective);
    ++emitted_;
  }
  if (pending_.events.size() >= 16384) Flush();
  return true;
}

// 09:00 in Vietnam the day after `last`, in microseconds since the epoch
// (never earlier than the batch before).
int64_t Generator::RecordedAfter(Date last) const {
  int64_t at = (static_cast<int64_t>(last.days + 1) * 86400 + 2 * 3600) * 1000000;
  return std::max(recorded_ + 1, at);
}

// Appends the queued events, recorded at 09:00 in Vietnam the day after the
// latest act among them.
void Generator::Flush() {
  if (pending_.events.empty()) return;
  recorded_ = RecordedAfter(pending_last_);
  last_date_ = std::max(last_date_, pending_last_);
  ledger::AppendResult result;
  Status s = ledger_->Append(pending_, &result);
  if (!s.ok()) Fail("append: " + s.ToString());
  if (result.seqs.front() + pending_.events.size() != next_seq_) {
    Fail("the ledger numbered the events otherwise than the generator expected");
  }
  pending_.events.clear();
  if (emitted_ / 500000 != (emitted_ - result.seqs.size()) / 500000) {
    std::fprintf(stderr, "national_gen: %" PRIu64 " events, up to %s\n", emitted_,
                 FormatDate(pending_last_).c_str());
  }
}

std::string Generator::DecisionNo(const std::string& issuer, int y) {
  int n = ++decision_counter_[issuer + "|" + std::to_string(y)];
  return std::to_string(n) + "/QĐ-UBND-" + issuer;
}

// ---------------------------------------------------------------- set-up

// The schema event, first, as `ocop` records it when it opens a ledger for
// writing (ocop/open_ledger.cc's OpenWriter calls replay::RecordSchema): a
// dispute bundle proves the schema its events decode by through it, so a
// generated ledger verifies like a real one. Its "today" is the day the
// history opens (recorded the day before the first batch), not the wall
// clock: the root stays the same for the same --events and --seed, as long as
// the program's schema files (ledger/event.capnp, workflow/ocop.capnp) are.
// It is one of the N events.
void Generator::Schema() {
  const Date day = FromCivil(kFirstYear, 1, 1);
  recorded_ = RecordedAfter(day + -1);
  Status s = replay::RecordSchema(ledger_, FormatDate(day));
  if (!s.ok()) Fail("schema event: " + s.ToString());
  if (ledger_->Size() != next_seq_) Fail("the schema event is not the ledger's first event");
  ++next_seq_;
  ++emitted_;
  ++by_type_["SchemaPublished"];
}

void Generator::Country() {
  const workflow::Principal boot{"bootstrap", true};
  const workflow::Principal admin{"admin@VN", false};
  Date d = FromCivil(2019, 1, 2);
  Submit(boot, d, [&](Body b) {
    auto u = b.initDefineUnit();
    u.setUnit("VN");
    u.setName("Việt Nam");
    u.setLevel(S::UnitLevel::NATIONAL);
  });
  Submit(boot, d, [&](Body b) {
    auto g = b.initGrantRole();
    g.setPrincipal("admin@VN");
    g.setRole(S::Role::ADMIN);
    g.setUnit("VN");
  });
  // 3,300 communes over 34 provinces; each province 15-28 districts.
  const int kCommunes = 3300;
  for (int i = 0; i < 34; ++i) {
    Province p;
    char code[8];
    std::snprintf(code, sizeof code, "T%02d", i + 1);
    p.code = code;
    p.name = kProvinces[i];
    provinces_.push_back(p);
    Submit(admin, d, [&](Body b) {
      auto u = b.initDefineUnit();
      u.setUnit(p.code);
      u.setName(p.name);
      u.setLevel(S::UnitLevel::PROVINCE);
      u.setParent("VN");
    });
  }
  for (int i = 0; i < 34; ++i) {
    int nd = rng_.Int(15, 28, kProvinceSize, i);
    int nc = kCommunes / 34 + (i < kCommunes % 34 ? 1 : 0);
    for (int k = 0; k < nd; ++k) {
      District dist{provinces_[i].code + "-H" + std::to_string(k + 1), i};
      provinces_[i].districts.push_back(static_cast<int>(districts_.size()));
      districts_.push_back(dist);
      Submit(admin, d, [&](Body b) {
        auto u = b.initDefineUnit();
        u.setUnit(dist.code);
        u.setName((k % 5 == 0 ? "Thị xã " : "Huyện ") + PlaceName(rng_, i, k));
        u.setLevel(S::UnitLevel::DISTRICT);
        u.setParent(provinces_[i].code);
      });
    }
    for (int k = 0; k < nc; ++k) {
      int di = provinces_[i].districts[k % nd];
      Commune c{districts_[di].code + "-X" + std::to_string(k / nd + 1), di, i};
      provinces_[i].communes.push_back(static_cast<int>(communes_.size()));
      communes_.push_back(c);
      Submit(admin, d, [&](Body b) {
        auto u = b.initDefineUnit();
        u.setUnit(c.code);
        u.setName((k % 7 == 0 ? "Thị trấn " : "Xã ") + PlaceName(rng_, 1000 + i, k));
        u.setLevel(S::UnitLevel::COMMUNE);
        u.setParent(districts_[di].code);
      });
    }
  }
  Flush();
}

// Councils of every level, and the principals who act: an officer, an
// authority (UBND) and a council member per district; the same and an
// inspector per province; the central council and ministry.
void Generator::People() {
  const workflow::Principal admin{"admin@VN", false};
  Date d = FromCivil(2019, 1, 3);
  auto council = [&](const std::string& id, S::CouncilLevel level, const std::string& unit) {
    Submit(admin, d, [&](Body b) {
      auto c = b.initConstituteCouncil();
      c.setCouncil(id);
      c.setLevel(level);
      c.setUnit(unit);
      auto dec = c.initDecision();
      dec.setNo("1/QĐ-UBND-" + unit);
      dec.setDate(FormatDate(d));
      dec.setIssuer(unit);
    });
  };
  auto grant = [&](const std::string& who, S::Role role, const std::string& unit,
                   const std::string& council_id = "") {
    Submit(admin, d + 1, [&](Body b) {
      auto g = b.initGrantRole();
      g.setPrincipal(who);
      g.setRole(role);
      g.setUnit(unit);
      if (!council_id.empty()) g.setCouncil(council_id);
    });
  };
  council("HD-VN", S::CouncilLevel::CENTRAL, "VN");
  for (const auto& p : provinces_) council("HD-" + p.code, S::CouncilLevel::PROVINCE, p.code);
  for (const auto& h : districts_) council("HD-" + h.code, S::CouncilLevel::DISTRICT, h.code);
  grant("authority@VN", S::Role::AUTHORITY, "VN");
  grant("council@HD-VN", S::Role::COUNCIL, "VN", "HD-VN");
  for (const auto& p : provinces_) {
    grant("officer@" + p.code, S::Role::OFFICER, p.code);
    grant("authority@" + p.code, S::Role::AUTHORITY, p.code);
    grant("inspector@" + p.code, S::Role::INSPECTOR, p.code);
    grant("council@HD-" + p.code, S::Role::COUNCIL, p.code, "HD-" + p.code);
  }
  for (const auto& h : districts_) {
    grant("officer@" + h.code, S::Role::OFFICER, h.code);
    grant("authority@" + h.code, S::Role::AUTHORITY, h.code);
    grant("council@HD-" + h.code, S::Role::COUNCIL, h.code, "HD-" + h.code);
  }
  Flush();

  // Producers (N/500) and products (N/72), the products' first cycles
  // growing year on year as the programme did.
  const size_t n_subjects = std::max<size_t>(50, target_ / 500);
  const size_t n_products = std::max<size_t>(60, target_ / 72);
  for (size_t i = 0; i < n_subjects; ++i) {
    Subject s;
    char id[32];
    std::snprintf(id, sizeof id, "CT%06zu", i + 1);
    s.id = id;
    s.commune = static_cast<int>(rng_.H(kCommuneOf, i) % communes_.size());
    double f = rng_.U(kLegalForm, i);
    s.form = f < 0.32   ? S::LegalForm::HTX
             : f < 0.38 ? S::LegalForm::THT
             : f < 0.62 ? S::LegalForm::DN
             : f < 0.90 ? S::LegalForm::HKD
                        : S::LegalForm::CSSX;
    s.woman = rng_.U(kWoman, i) < 0.27;
    subjects_.push_back(s);
  }
  double weights[kLastYear - kFirstYear + 1], sum = 0;
  for (int y = 0; y <= kLastYear - kFirstYear; ++y) sum += weights[y] = 1.0 + 0.12 * y;
  size_t made = 0;
  for (int y = 0; y <= kLastYear - kFirstYear; ++y) {
    size_t count = y == kLastYear - kFirstYear
                       ? n_products - made
                       : static_cast<size_t>(std::llround(n_products * weights[y] / sum));
    for (size_t k = 0; k < count; ++k, ++made) {
      Product p;
      char id[32];
      std::snprintf(id, sizeof id, "SP%07zu", made + 1);
      p.id = id;
      p.subject = static_cast<int>(rng_.H(kSubjectOf, made) % subjects_.size());
      p.commune = subjects_[p.subject].commune;
      p.district = communes_[p.commune].district;
      p.province = communes_[p.commune].province;
      p.year = kFirstYear + y;
      p.group =
          1 + static_cast<int>(rng_.H(kGroup, made) % 100 < 55 ? 0 : rng_.H(kGroup, made, 1) % 6);
      // Latent quality: most products land at 3 stars, a fifth at 4, a few at 5.
      double u =
          (rng_.U(kQuality, made, 1) + rng_.U(kQuality, made, 2) + rng_.U(kQuality, made, 3)) / 3;
      p.quality = 41 + 44 * u;
      if (rng_.U(kStar5, made) < 0.012) p.quality = 90 + 6 * rng_.U(kStar5, made, 1);
      auto& sub = subjects_[p.subject];
      sub.first_year = std::min(sub.first_year, p.year);
      product_index_[p.id] = static_cast<int>(products_.size());
      products_.push_back(p);
    }
  }
  // The product of exactly 100 events: the first of 2019, a steady 4 stars.
  special_ = 0;
  products_[0].special = true;
  products_[0].quality = 80;
}

// ---------------------------------------------------------------- a year

void Generator::Year(int y) {
  if (y > kFirstYear) Revocations(y);
  Monthly(y, 1);
  Targets(y);
  RegisterSubjects(y);
  Monthly(y, 2);
  Ideas(y);  // March and April
  Monthly(y, 3);
  Plans(y);  // April and May
  Monthly(y, 4);
  Monthly(y, 5);
  Support(y);  // June and July
  Monthly(y, 6);
  if (y == 2025) RetireDistricts();
  Monthly(y, 7);
  Dossiers(y);
  FirstScores(y);
  Monthly(y, 8);
  ForwardToProvince(y);
  if (y <= 2024 && y >= 2023) DistrictDecisions(y, FromCivil(y, 9, 10));
  ProvinceScores(y);
  ProvinceDecisions(y);
  Monthly(y, 9);
  ForwardToCentral(y);
  Monthly(y, 10);
  CentralScores(y);
  CentralDecisions(y);
  Monthly(y, 11);
  LateDecisions(y);
  Monthly(y, 12);
  Flush();
}

void Generator::Run() {
  Schema();
  Country();
  People();
  for (int y = kFirstYear; y <= kLastYear && !Done(); ++y) Year(y);
  Flush();
}

// Revocations of year y: in January, one decision per province (and one of
// the ministry for 5-star certificates), for certificates whose holders were
// found non-compliant last year (a third of them) or stopped producing.
void Generator::Revocations(int y) {
  Date date = FromCivil(y, 1, 12);
  std::map<std::string, std::vector<std::pair<int, S::RevocationReason>>> by_issuer;
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    bool flagged = p.flagged;
    p.flagged = false;
    if (p.special || !p.state) continue;
    const auto* active = p.state->ActiveOn(date);
    if (!active || p.last > date) continue;
    double u = rng_.U(kRevoke, i, y);
    S::RevocationReason reason;
    if (flagged && u < 0.35) {
      reason = rng_.U(kReason, i, y) < 0.6 ? S::RevocationReason::VIOLATION
                                           : S::RevocationReason::CRITERIA_NOT_MET;
    } else if (u < 0.006) {
      double r = rng_.U(kReason, i, y, 1);
      reason = r < 0.6   ? S::RevocationReason::PRODUCTION_STOPPED
               : r < 0.9 ? S::RevocationReason::OWNER_REQUEST
                         : S::RevocationReason::FALSE_DOSSIER;
    } else {
      continue;
    }
    std::string issuer =
        active->level == CouncilLevel::CENTRAL ? "VN" : provinces_[p.province].code;
    by_issuer[issuer].emplace_back(static_cast<int>(i), reason);
  }
  for (auto& [issuer, items] : by_issuer) {
    std::string no = DecisionNo(issuer, y);
    Submit({"authority@" + issuer, false}, date, [&](Body b) {
      auto r = b.initRevokeRating();
      auto d = r.initDecision();
      d.setNo(no);
      d.setDate(FormatDate(date));
      d.setIssuer(issuer);
      auto list = r.initItems(static_cast<unsigned>(items.size()));
      for (unsigned k = 0; k < list.size(); ++k) {
        list[k].setProduct(products_[items[k].first].id);
        list[k].setReason(items[k].second);
      }
    });
  }
  Flush();
}

void Generator::Targets(int y) {
  Date date = FromCivil(y, 2, 10);
  for (size_t i = 0; i < provinces_.size(); ++i) {
    const std::string& code = provinces_[i].code;
    double scale = static_cast<double>(products_.size()) / 34.0 / 10.0;
    const std::pair<const char*, double> targets[] = {
        {"recognised", std::round(scale * (0.6 + 0.05 * (y - kFirstYear)))},
        {"products_3_stars_or_more", std::round(scale * 0.8 * (1 + (y - kFirstYear)))},
        {"products_5_stars", std::round(1 + 0.2 * (y - kFirstYear))}};
    for (const auto& [indicator, value] : targets) {
      Submit({"authority@" + code, false}, date, [&](Body b) {
        auto t = b.initSetTarget();
        t.setUnit(code);
        t.setYear(static_cast<uint16_t>(y));
        t.setIndicator(indicator);
        t.setValue(value);
      });
    }
  }
  Flush();
}

void Generator::RegisterSubjects(int y) {
  for (size_t i = 0; i < subjects_.size(); ++i) {
    const Subject& s = subjects_[i];
    if (s.first_year != y) continue;
    Date d = Jitter(y, 2, 15, 25, kSubjectOf, i);
    const Commune& c = communes_[s.commune];
    workflow::Principal who{d < kReform ? "officer@" + districts_[c.district].code
                                        : "officer@" + provinces_[c.province].code,
                            false};
    int f = static_cast<int>(s.form);
    Submit(who, d, [&](Body b) {
      auto r = b.initRegisterSubject();
      r.setSubject(s.id);
      r.setName(std::string(kLegalPrefix[std::min(f, 4)]) + " " + PlaceName(rng_, 7000 + i, 1));
      r.setLegalForm(s.form);
      r.setUnit(c.code);
      r.setWomanOwned(s.woman);
    });
  }
  Flush();
}

// Ideas registered in March and reviewed; half of the rejected come back in
// April (at least 7 days after the rejection) and are selected.
void Generator::Ideas(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (p.year != y) continue;
    p.state = &view_.products[p.id].state;
    Date d = Jitter(y, 3, 1, 15, kIdeaOutcome, i);
    std::string name =
        std::string(kKinds[p.group][rng_.H(kName, i, 9) % 5]) + " " + PlaceName(rng_, 9000 + i, 2);
    auto reg = [&](Date at) {
      return Submit(Officer(p, at), at, [&](Body b) {
        auto r = b.initRegisterIdea();
        r.setProduct(p.id);
        r.setSubject(subjects_[p.subject].id);
        r.setName(name);
        r.setGroup(static_cast<uint8_t>(p.group));
        r.setUnit(communes_[p.commune].code);
        r.setCycleYear(static_cast<uint16_t>(y));
      });
    };
    reg(d);
    bool selected = p.special || rng_.U(kIdeaOutcome, i, 1) < 0.86;
    Date r = Jitter(y, 3, 20, 31, kIdeaOutcome, i, 2);
    Submit(Officer(p, r), r, [&](Body b) {
      auto v = b.initReviewIdea();
      v.setProduct(p.id);
      v.setOutcome(selected ? S::IdeaOutcome::SELECTED : S::IdeaOutcome::REJECTED);
      if (!selected) v.setReason("chưa đạt tiêu chí chọn ý tưởng");
    });
  }
  Flush();
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (p.year != y || p.state->stage != Stage::kIdeaRejected) continue;
    if (rng_.U(kResubmit, i) >= 0.5) continue;
    Date d = Clamp(p, Jitter(y, 4, 8, 12, kResubmit, i, 1));
    Submit(Officer(p, d), d, [&](Body b) {
      auto r = b.initRegisterIdea();
      r.setProduct(p.id);
      r.setSubject(subjects_[p.subject].id);
      r.setName(p.state->name);
      r.setGroup(static_cast<uint8_t>(p.group));
      r.setUnit(communes_[p.commune].code);
      r.setCycleYear(static_cast<uint16_t>(y));
    });
    Date r = Clamp(p, Jitter(y, 4, 13, 15, kResubmit, i, 2));
    Submit(Officer(p, r), r, [&](Body b) {
      auto v = b.initReviewIdea();
      v.setProduct(p.id);
      v.setOutcome(S::IdeaOutcome::SELECTED);
    });
  }
  Flush();
}

void Generator::Plans(int y) {
  auto submit = [&](Product& p, size_t i, Date d) {
    Submit(Officer(p, d), d, [&](Body b) {
      auto s = b.initSubmitPlan();
      s.setProduct(p.id);
      auto doc = s.initDocument();
      doc.setTitle("Phương án kinh doanh " + p.state->name);
      doc.setSha256(Hex64(rng_.H(kPlanOutcome, i, 1), rng_.H(kPlanOutcome, i, 2),
                          rng_.H(kPlanOutcome, i, 3), d.days));
    });
  };
  auto review = [&](Product& p, Date d, bool ok) {
    Submit(Officer(p, d), d, [&](Body b) {
      auto v = b.initReviewPlan();
      v.setProduct(p.id);
      v.setOutcome(ok ? S::PlanOutcome::APPROVED : S::PlanOutcome::REJECTED);
      if (!ok) v.setReason("phương án chưa khả thi, bổ sung thị trường tiêu thụ");
    });
  };
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (p.year != y || p.state->stage != Stage::kIdeaSelected) continue;
    submit(p, i, Clamp(p, Jitter(y, 4, 16, 30, kPlanOutcome, i)));
  }
  Flush();
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (p.year != y || p.state->stage != Stage::kPlanSubmitted) continue;
    review(p, Clamp(p, Jitter(y, 5, 2, 10, kPlanOutcome, i, 5)),
           p.special || rng_.U(kPlanOutcome, i, 6) < 0.9);
  }
  Flush();
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (p.year != y || p.state->stage != Stage::kPlanRejected) continue;
    submit(p, i, Clamp(p, Jitter(y, 5, 11, 20, kPlanOutcome, i, 7)));
    review(p, Clamp(p, Jitter(y, 5, 21, 26, kPlanOutcome, i, 8)), true);
  }
  Flush();
}

void Generator::Support(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (p.year != y || !p.state->plan_approved) continue;
    int n = p.special ? 1 : rng_.Int(0, 3, kSupport, i);
    for (int k = 0; k < n; ++k) {
      Date d = Clamp(p, Jitter(y, 6 + k / 2, 1 + 14 * (k % 2), 14 + 14 * (k % 2), kSupport, i, k));
      Submit(Officer(p, d), d, [&](Body b) {
        auto g = b.initGrantSupport();
        g.setProduct(p.id);
        g.setCategory(kSupportKinds[rng_.H(kSupport, i, k, 1) % 5]);
        g.setAmountVnd(static_cast<uint64_t>(rng_.Int(2, 30, kSupport, i, k, 2)) * 10000000ull);
        g.setSource(rng_.U(kSupport, i, k, 3) < 0.7 ? "province" : "central");
      });
    }
  }
  Flush();
}

// Dossiers in early August: new entries (this year's approved plans, and
// older products without a certificate), renewals of certificates that end
// before next year's round, and upgrades of products that have improved.
void Generator::Dossiers(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!p.state || p.year > y) continue;
    const ProductState& st = *p.state;
    Date d = Clamp(p, Jitter(y, 8, 1, 10, kDossier, i, y));
    if (st.dossier && st.dossier->cycle_year >= y) continue;
    const auto* active = st.ActiveOn(d);
    Stage stage = st.StageOn(d);
    S::Entry entry;
    if (active) {
      if (stage != Stage::kCertified) continue;
      if (!p.special) p.quality += 1.2;  // certified producers improve
      bool ending = active->valid_until < FromCivil(y + 1, 8, 1);
      if (ending) {
        if (!(p.special || rng_.U(kRenew, i, y) < 0.78)) continue;
        entry = S::Entry::RENEWAL;
      } else {
        int next = active->stars + 1;
        double need = next == 4 ? 73 : next == 5 ? 93 : 200;
        if (p.special || active->stars >= 5 || p.quality < need || rng_.U(kUpgrade, i, y) >= 0.3)
          continue;
        entry = S::Entry::UPGRADE;
      }
    } else {
      bool fresh = p.year == y && stage == Stage::kPlanApproved;
      bool again = st.plan_approved || stage == Stage::kRevoked || stage == Stage::kExpired;
      if (fresh) {
        if (!(p.special || rng_.U(kDossier, i) < 0.88)) continue;
      } else if (again) {
        if (rng_.U(kReenter, i, y) >= 0.35) continue;
      } else {
        continue;
      }
      entry = S::Entry::NEW;
    }
    Submit(Officer(p, d), d, [&](Body b) {
      auto s = b.initSubmitDossier();
      s.setProduct(p.id);
      s.setCycleYear(static_cast<uint16_t>(y));
      s.setEntry(entry);
    });
  }
  Flush();
}

// One council's score of product p: parts in proportion to the rules' maxima
// around the product's quality, the mandatory criteria missed now and then.
void Generator::Score(Product& p, const std::string& council, Date d, int y) {
  auto rules = RulesOn(d);
  if (!rules) Fail("no rules in force on " + FormatDate(d));
  size_t i = static_cast<size_t>(&p - products_.data());
  uint64_t salt = static_cast<uint64_t>(d.days) * 7 + council.size();
  double total = p.quality + (p.special ? 0 : (rng_.U(kScore, i, y, salt) - 0.5) * 8);
  total = std::clamp(total, 5.0, 99.0);
  auto part = [&](double max, uint64_t k) {
    double v = total * max / 100.0 + (rng_.U(kScore, i, salt, k) - 0.5) * 1.0;
    return std::clamp(std::round(v * 2) / 2, 0.0, max);
  };
  double a = part(rules->getMaxA(), 1), bb = part(rules->getMaxB(), 2),
         c = part(rules->getMaxC(), 3);
  bool met =
      p.special || rules->getMandatoryCriteria() == false || rng_.U(kMandatory, i, salt) >= 0.04;
  workflow::Principal who{"council@" + council, false};
  Submit(who, d, [&](Body b) {
    auto s = b.initRecordScore();
    s.setProduct(p.id);
    s.setCouncil(council);
    auto parts = s.initParts();
    parts.setA(a);
    parts.setB(bb);
    parts.setC(c);
    s.setMandatoryMet(met);
  });
}

// A dossier of year y still under evaluation: one that ended (certified, or
// below 3 stars, which ends it at once since issue 11) takes no further step.
bool InCycle(const ProductState* st, int y) {
  return st && st->dossier && st->dossier->cycle_year == y && st->dossier->open();
}

void Generator::FirstScores(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y) || !p.state->dossier->scores.empty()) continue;
    Date d = Clamp(p, Jitter(y, 8, 22, 31, kScore, i, y));
    std::string council =
        y <= 2024 ? "HD-" + districts_[p.district].code : "HD-" + provinces_[p.province].code;
    Score(p, council, d, y);
  }
  Flush();
}

void Generator::ForwardToProvince(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y) || p.state->dossier->forwarded_to) continue;
    const auto& scores = p.state->dossier->scores;
    if (scores.empty() || scores.back().level != CouncilLevel::DISTRICT) continue;
    Date d = Clamp(p, Jitter(y, 9, 2, 5, kJitter, i, y));
    auto rules = RulesOn(d);
    if (scores.back().total < rules->getForwardFrom()) continue;
    Submit({"officer@" + provinces_[p.province].code, false}, d, [&](Body b) {
      auto f = b.initForward();
      f.setProduct(p.id);
      f.setToLevel(CouncilLevel::PROVINCE);
    });
  }
  Flush();
}

// Under QĐ 148 the district UBND certifies 3 stars from its council's score.
void Generator::DistrictDecisions(int y, Date date) {
  auto rules = RulesOn(date);
  std::map<int, std::vector<Item>> by_district;
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y) || p.last > date) continue;
    const auto& dos = *p.state->dossier;
    const workflow::Score* best = nullptr;
    for (const auto& s : dos.scores) {
      if (s.level == CouncilLevel::DISTRICT) best = &s;
    }
    if (!best || best->stars < 3) continue;
    // Not forwarded, or forwarded and scored 3 at the province: 3 stars here.
    bool province3 = dos.forwarded_to && !dos.scores.empty() &&
                     dos.scores.back().level == CouncilLevel::PROVINCE &&
                     dos.scores.back().stars == 3;
    if (dos.forwarded_to && !province3) continue;
    if (auto c = workflow::CertifyingLevel(*rules, 3); !c || *c != CouncilLevel::DISTRICT) continue;
    const auto* active = p.state->ActiveOn(date);
    if (dos.entry == S::Entry::UPGRADE && (!active || active->stars >= 3)) continue;
    by_district[p.district].push_back({static_cast<int>(i), 3});
  }
  for (auto& [di, items] : by_district) {
    Approve(districts_[di].code, CouncilLevel::DISTRICT, date, items);
  }
  Flush();
}

void Generator::ProvinceScores(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y)) continue;
    const auto& dos = *p.state->dossier;
    if (dos.forwarded_to != CouncilLevel::PROVINCE ||
        dos.scores.back().level == CouncilLevel::PROVINCE)
      continue;
    Date d = Clamp(p, Jitter(y, 9, 6, 20, kScore, i, y + 1));
    Score(p, "HD-" + provinces_[p.province].code, d, y + 1000);
  }
  Flush();
}

void Generator::Approve(const std::string& issuer, CouncilLevel level, Date date,
                        const std::vector<Item>& items) {
  if (items.empty()) return;
  int y, m;
  unsigned mm, dd;
  workflow::ToCivil(date, &y, &mm, &dd);
  m = static_cast<int>(mm);
  std::string no = DecisionNo(issuer, y);
  std::string prefix = issuer + "-" + std::to_string(y) + "-" + std::to_string(m) + "-";
  Submit({"authority@" + issuer, false}, date, [&](Body b) {
    auto a = b.initApproveResults();
    auto d = a.initDecision();
    d.setNo(no);
    d.setDate(FormatDate(date));
    d.setIssuer(issuer);
    a.setLevel(level);
    auto list = a.initItems(static_cast<unsigned>(items.size()));
    for (unsigned k = 0; k < list.size(); ++k) {
      list[k].setProduct(products_[items[k].product].id);
      list[k].setStars(static_cast<uint8_t>(items[k].stars));
      list[k].setCertificate(prefix + std::to_string(k + 1));
    }
  });
}

// The latest score of `level` in p's dossier, if any.
const workflow::Score* LatestAt(const ProductState& st, CouncilLevel level) {
  const workflow::Score* best = nullptr;
  for (const auto& s : st.dossier->scores) {
    if (s.level == level) best = &s;
  }
  return best;
}

// Whether an item of `stars` may go into a decision on `date` for p.
bool Certifiable(const ProductState& st, int stars, Date date) {
  const auto* active = st.ActiveOn(date);
  if (st.dossier->entry == S::Entry::UPGRADE && (!active || stars <= active->stars)) return false;
  return stars >= 3;
}

// The provinces' decisions of late September: 3 and 4 stars where the rules
// let the province certify them; 5-star candidates wait for the centre.
void Generator::ProvinceDecisions(int y) {
  std::map<int, std::vector<Item>> by_province;
  std::vector<Date> dates;
  for (size_t k = 0; k < provinces_.size(); ++k)
    dates.push_back(Jitter(y, 9, 25, 29, kJitter, k, y + 77));
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y)) continue;
    Date date = dates[p.province];
    if (p.last > date) continue;
    const auto* best = LatestAt(*p.state, CouncilLevel::PROVINCE);
    if (!best || best->stars >= 5 || best->stars < 3) continue;
    auto level = workflow::CertifyingLevel(*RulesOn(date), best->stars);
    if (!level || *level != CouncilLevel::PROVINCE) continue;
    if (!Certifiable(*p.state, best->stars, date)) continue;
    by_province[p.province].push_back({static_cast<int>(i), best->stars});
  }
  for (auto& [pi, items] : by_province) {
    Approve(provinces_[pi].code, CouncilLevel::PROVINCE, dates[pi], items);
  }
  Flush();
}

void Generator::ForwardToCentral(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y)) continue;
    const auto& dos = *p.state->dossier;
    if (dos.forwarded_to == CouncilLevel::CENTRAL || dos.scores.empty()) continue;
    const auto& last = dos.scores.back();
    if (last.level != CouncilLevel::PROVINCE || last.stars < 5) continue;
    Date d = Clamp(p, Jitter(y, 10, 1, 5, kJitter, i, y));
    Submit({"officer@" + provinces_[p.province].code, false}, d, [&](Body b) {
      auto f = b.initForward();
      f.setProduct(p.id);
      f.setToLevel(CouncilLevel::CENTRAL);
    });
  }
  Flush();
}

void Generator::CentralScores(int y) {
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y)) continue;
    const auto& dos = *p.state->dossier;
    if (dos.forwarded_to != CouncilLevel::CENTRAL ||
        dos.scores.back().level == CouncilLevel::CENTRAL)
      continue;
    Date d = Clamp(p, Jitter(y, 11, 1, 15, kScore, i, y + 2));
    Score(p, "HD-VN", d, y + 2000);
  }
  Flush();
}

void Generator::CentralDecisions(int y) {
  Date date = FromCivil(y, 11, 25);
  std::vector<Item> items;
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y) || p.last > date) continue;
    const auto* best = LatestAt(*p.state, CouncilLevel::CENTRAL);
    if (!best || best->stars < 5 || !Certifiable(*p.state, 5, date)) continue;
    items.push_back({static_cast<int>(i), 5});
  }
  Approve("VN", CouncilLevel::CENTRAL, date, items);
  Flush();
}

// December: the centre did not give 5 stars, so the province certifies the 4
// its own council's score allows; under QĐ 148 a province score of 3 goes
// back to the district UBND.
void Generator::LateDecisions(int y) {
  Date date = FromCivil(y, 12, 5);
  std::map<int, std::vector<Item>> by_province;
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!InCycle(p.state, y) || p.last > date) continue;
    const auto& dos = *p.state->dossier;
    if (dos.forwarded_to != CouncilLevel::CENTRAL) continue;
    const auto* best = LatestAt(*p.state, CouncilLevel::PROVINCE);
    if (!best || best->stars < 4 || !Certifiable(*p.state, 4, date)) continue;
    by_province[p.province].push_back({static_cast<int>(i), 4});
  }
  for (auto& [pi, items] : by_province) {
    Approve(provinces_[pi].code, CouncilLevel::PROVINCE, date, items);
  }
  Flush();
  if (y == 2023 || y == 2024) DistrictDecisions(y, date);
}

// 2025-07-01: the district level is abolished; each district's communes now
// answer to the province, which succeeds it.
void Generator::RetireDistricts() {
  const workflow::Principal admin{"admin@VN", false};
  for (const auto& h : districts_) {
    Submit(admin, kReform, [&](Body b) {
      auto r = b.initRetireUnit();
      r.setUnit(h.code);
      r.setSuccessor(provinces_[h.province].code);
    });
  }
  Flush();
}

// The month's inspections and trade promotions of products whose
// certificate is in force. Promotions fill the history up to a schedule that
// grows with the number of certified products, ending at exactly N events.
void Generator::Monthly(int y, int m) {
  ++month_index_;
  if (Done()) return;
  Date first = FromCivil(y, static_cast<unsigned>(m), 1);
  Date last = workflow::AddMonths(first, 1) + -1;
  std::vector<int> active;
  for (size_t i = 0; i < products_.size(); ++i) {
    Product& p = products_[i];
    if (!p.state || p.state->certificates.empty() || p.last > last) continue;
    if (p.state->stage != Stage::kCertified || !p.state->ActiveOn(std::max(first, p.last)) ||
        !p.state->ActiveOn(last)) {
      continue;
    }
    if (p.special) {
      // One promotion a month up to 85 events, then exactly up to 100 in
      // the last month.
      int want =
          month_index_ == kMonths ? 100 - static_cast<int>(p.events) : (p.events < 85 ? 1 : 0);
      for (int k = 0; k < want; ++k) {
        Date d = Clamp(p, first + std::min(k, last - first));
        Submit({"officer@" + provinces_[p.province].code, false}, d, [&](Body b) {
          auto r = b.initRecordPromotion();
          r.setProduct(p.id);
          r.setChannel(kChannels[k % 6]);
        });
      }
      continue;
    }
    active.push_back(static_cast<int>(i));
    if (rng_.U(kInspect, i, month_index_) < 1.0 / 6) {
      Date d = Clamp(p, first + rng_.Int(0, last - first, kInspect, i, month_index_, 1));
      bool ok = rng_.U(kCompliant, i, month_index_) >= 0.08;
      if (!ok) p.flagged = true;
      Submit({"inspector@" + provinces_[p.province].code, false}, d, [&](Body b) {
        auto r = b.initRecordInspection();
        r.setProduct(p.id);
        r.setCompliant(ok);
        if (!ok) {
          r.setFindings("nhãn mác chưa đúng quy định; bổ sung hồ sơ an toàn thực phẩm");
          r.setDeadline(FormatDate(d + 60));
        }
      });
    }
  }
  if (active.empty()) return;
  // Events due by the end of this month: N * (k/120)^1.7.
  double share = std::pow(static_cast<double>(month_index_) / kMonths, 1.7);
  uint64_t due = month_index_ == kMonths ? target_ : static_cast<uint64_t>(target_ * share);
  if (due <= emitted_) return;
  uint64_t need = due - emitted_;
  uint64_t cap = month_index_ == kMonths ? 1000 : 12;
  uint64_t base = std::min<uint64_t>(cap, need / active.size());
  uint64_t extra = base == cap ? 0 : need - base * active.size();
  size_t start = rng_.H(kPromo, month_index_) % active.size();
  for (size_t j = 0; j < active.size() && !Done(); ++j) {
    size_t idx = (start + j) % active.size();
    Product& p = products_[active[idx]];
    uint64_t n = base + (j < extra ? 1 : 0);
    std::vector<int> days;
    for (uint64_t k = 0; k < n; ++k)
      days.push_back(rng_.Int(0, last - first, kPromo, active[idx], month_index_, k));
    std::sort(days.begin(), days.end());
    for (uint64_t k = 0; k < n; ++k) {
      Date d = Clamp(p, first + days[k]);
      Submit({"officer@" + provinces_[p.province].code, false}, d, [&](Body b) {
        auto r = b.initRecordPromotion();
        r.setProduct(p.id);
        r.setChannel(kChannels[rng_.H(kPromo, active[idx], month_index_, k + 100) % 6]);
      });
    }
  }
}

int Main(int argc, char** argv) {
  std::string dir;
  uint64_t events = 10000000, seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(std::string("missing value for ") + a + "\n" + kUsage);
      return argv[++i];
    };
    if (a == "--dir")
      dir = value();
    else if (a == "--events")
      events = std::stoull(value());
    else if (a == "--seed")
      seed = std::stoull(value());
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      Fail("unknown argument '" + a + "'\n" + kUsage);
    }
  }
  if (dir.empty()) Fail(std::string("--dir is required\n") + kUsage);
  if (events < 20000) Fail("--events must be at least 20000 for a history of ten cycles");
  namespace fs = std::filesystem;
  if (fs::exists(dir) && !fs::is_empty(dir))
    Fail(dir + " exists and is not empty: give a new directory");

  double t0 = NowSeconds();
  Generator* gp = nullptr;
  ledger::Options options;
  options.sync = false;  // one writer filling a new directory: durability comes at close
  options.clock = [&gp] { return gp ? gp->recorded() : 0; };
  std::unique_ptr<ledger::Ledger> ledger;
  Status s = ledger::Ledger::Open(dir, options, &ledger);
  if (!s.ok()) Fail("open " + dir + ": " + s.ToString());
  Generator gen(ledger.get(), events, seed);
  gp = &gen;
  gen.Run();
  double secs = NowSeconds() - t0;

  // The Merkle root of the whole log: the same for the same --events and
  // --seed (the events and their recording times are deterministic; only
  // the signatures are not).
  ledger::merkle::Hash root{};
  Status rs = ledger->RootWith({}, &root);
  if (!rs.ok()) Fail("root: " + rs.ToString());
  const std::string root_hex = ledger::merkle::ToHex(root);

  // Parameters, the 100-event product and a sample for the benchmarks.
  const Product& special = gen.special();
  std::ofstream meta(fs::path(dir) / "national.json");
  meta << "{\"events\":" << gen.emitted() << ",\"seed\":" << seed
       << ",\"first_year\":" << kFirstYear << ",\"last_year\":" << kLastYear << ",\"last_date\":\""
       << FormatDate(gen.last_date()) << "\",\"bundle_product\":\"" << special.id
       << "\",\"bundle_product_events\":" << special.events
       << ",\"products\":" << gen.products().size() << ",\"subjects\":" << gen.subjects()
       << ",\"units\":" << gen.units() << ",\"root\":\"" << root_hex << "\",\"types\":{";
  bool first = true;
  for (const auto& [type, n] : gen.by_type()) {
    meta << (first ? "" : ",") << "\"" << type << "\":" << n;
    first = false;
  }
  meta << "}}\n";
  meta.close();
  ledger.reset();

  std::printf("national_gen events=%" PRIu64
              " products=%zu subjects=%zu units=%zu seconds=%.1f "
              "events_per_s=%.0f bundle_product=%s bundle_product_events=%u last_date=%s "
              "peak_rss_mb=%.0f root=%s\n",
              gen.emitted(), gen.products().size(), gen.subjects(), gen.units(), secs,
              gen.emitted() / secs, special.id.c_str(), special.events,
              FormatDate(gen.last_date()).c_str(), PeakRssKb() / 1024.0, root_hex.c_str());
  for (const auto& [type, n] : gen.by_type()) std::printf("# %-20s %" PRIu64 "\n", type.c_str(), n);
  if (gen.emitted() < events) {
    std::fprintf(stderr,
                 "national_gen: the history ended at %" PRIu64 " events, fewer than %" PRIu64 "\n",
                 gen.emitted(), events);
  }
  if (special.events != 100) {
    std::fprintf(stderr, "national_gen: product %s has %u events, not 100\n", special.id.c_str(),
                 special.events);
  }
  return 0;
}

}  // namespace
}  // namespace ocop::bench

int main(int argc, char** argv) { return ocop::bench::Guarded(ocop::bench::Main, argc, argv); }
