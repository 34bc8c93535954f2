// Tampering is caught, through the real build/bin/ocop as a third party or an
// auditor would run it:
//  * `ocop verify` after one byte of one stored event was changed directly in
//    RocksDB (column family "events", key = 8-byte big-endian seq): exit 1,
//    naming that seq;
//  * `ocop verify-bundle` on a dispute bundle with one leaf byte, one path
//    hash, the root or the signature altered, or an event left out: exit 1
//    each, and 0 untouched, with a --data that points nowhere;
//  * `ocop verify-report` on a JSON report with one number changed, or its
//    ledger root changed: exit 1; untouched (also known-at and as-of
//    reports): exit 0.
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "raw_db.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using ocop::testing::Run;

Run Ocop(const std::string& args, const std::string& input = "") {
  return ocop::testing::Ocop("replay-tamper", args, input);
}

struct DataDir : ocop::testing::DataDir {
  DataDir() : ocop::testing::DataDir("replay-tamper") {}
};

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteJson(const std::string& path, const json& j) {
  std::ofstream f(path, std::ios::binary);
  f << j.dump(1) << "\n";
  REQUIRE(f.good());
}

// Base64 (RFC 4648, padded), written here so the test trusts nothing of the program's.
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string ToB64(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out.push_back(kB64[v >> s & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kB64[v >> 18 & 63], kB64[v >> 12 & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8;
    out += {kB64[v >> 18 & 63], kB64[v >> 12 & 63], kB64[v >> 6 & 63], '='};
  }
  return out;
}

std::string FromB64(const std::string& in) {
  std::string out;
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    REQUIRE((p != nullptr && c != '\0'));
    v = v << 6 | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(v >> bits & 0xff));
    }
  }
  return out;
}

// Another hexadecimal digit in place of the one at `i`.
std::string FlipHex(std::string hex, size_t i) {
  hex[i] = hex[i] == '0' ? '1' : '0';
  return hex;
}

bool Mentions(const json& problems, const std::string& what) {
  for (const auto& p : problems) {
    if (p.get<std::string>().find(what) != std::string::npos) return true;
  }
  return false;
}

// The CLI test's producer and product, carried to a 4-star certificate.
const char* kHistory = R"(
{"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"DefineUnit","effective":"2022-01-01","unit":"CM-UM","name":"Huyện U Minh","level":"district","parent":"CM"}
{"type":"ConstituteCouncil","effective":"2022-02-01","council":"HD-CM","level":"province","unit":"CM","decision":{"no":"12/QĐ-UBND","date":"2022-02-01","issuer":"CM"}}
{"type":"GrantRole","effective":"2022-02-01","principal":"hd.a","role":"council","unit":"CM","council":"HD-CM"}
{"type":"GrantRole","effective":"2022-02-01","principal":"ubnd.cm","role":"authority","unit":"CM"}
{"type":"GrantRole","effective":"2022-02-01","principal":"kt.vien","role":"auditor","unit":"CM"}
{"type":"RegisterSubject","effective":"2022-03-01","subject":"S1","name":"HTX Thành Công","legal_form":"HTX","unit":"CM-UM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong U Minh","group":1,"unit":"CM-UM","cycle_year":2022}
{"type":"ReviewIdea","effective":"2022-03-10","product":"P1","outcome":"selected"}
{"type":"SubmitPlan","effective":"2022-04-01","product":"P1","document":{"title":"PA","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}
{"type":"ReviewPlan","effective":"2022-04-15","product":"P1","outcome":"approved"}
{"type":"SubmitDossier","effective":"2022-08-01","product":"P1","cycle_year":2022,"entry":"new"}
{"type":"RecordScore","effective":"2022-09-01","product":"P1","council":"HD-CM","parts":{"A":30,"B":20,"C":30}}
{"type":"ApproveResults","effective":"2022-09-20","decision":{"no":"58/QĐ-UBND","date":"2022-09-20","issuer":"CM"},"level":"province","items":[{"product":"P1","stars":4,"certificate":"CN-1"}]}
)";
// The schema (event 1, replay/schema_event.h) and the history; the dossier is
// also recorded on its round's stream.
constexpr uint64_t kEvents = 16;
constexpr uint64_t kIdeaSeq = 9;  // P1's first event: RegisterIdea, whose name we alter

void Populate(const DataDir& d) {
  Run r = Ocop(d.flag() + " submit", kHistory);
  INFO(r.out);
  REQUIRE(r.code == 0);
  REQUIRE(json::parse(Ocop(d.flag() + " tree-head").out)["size"] == kEvents);
}

// Changes one byte of the stored event `seq`, straight in RocksDB, inside the
// text `needle` it holds. No ocop process may have the directory open.
void TamperStoredEvent(const DataDir& d, uint64_t seq, const std::string& needle) {
  ocop::ledger_support::RawDb raw(d.path.string());
  rocksdb::ColumnFamilyHandle* events = raw.Family("events");
  std::string key;
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>(seq >> (8 * i)));
  std::string value = raw.Get(events, key);
  size_t at = value.find(needle);
  REQUIRE(at != std::string::npos);
  value[at + needle.size() - 1] ^= 0x01;  // "U Minh" -> "U Mini": still decodes
  raw.Put(events, key, value);
}

}  // namespace

TEST_CASE("verify-report: a changed number or a changed root is refused") {
  DataDir d;
  Populate(d);
  const std::string path = d.File("report.json");
  REQUIRE(Ocop(d.flag() + " report --period 2022 --unit CM --format json --out " + path).code == 0);
  json report = json::parse(ReadAll(path));
  REQUIRE(report["recognised"]["total"] == 1);
  REQUIRE(report["active_at_end"]["by_stars"]["4"] == 1);
  REQUIRE(report["ledger"]["size"] == kEvents);

  // Untouched.
  Run r = Ocop(d.flag() + " verify-report " + path);
  INFO(r.out);
  CHECK(r.code == 0);
  json v = json::parse(r.out);
  CHECK(v["ok"] == true);
  CHECK(v["matches"] == true);
  CHECK(v["signature_ok"] == true);
  CHECK(v["consistent"] == true);
  CHECK(v["log_intact"] == true);

  // One number changed.
  for (const char* where :
       {"/recognised/total", "/active_at_end/by_stars/4", "/subjects_at_end/total"}) {
    INFO(where);
    json bad = report;
    bad[json::json_pointer(where)] = bad[json::json_pointer(where)].get<int>() + 1;
    WriteJson(path + ".bad", bad);
    r = Ocop(d.flag() + " verify-report " + path + ".bad");
    INFO(r.out);
    CHECK(r.code == 1);
    v = json::parse(r.out);
    CHECK(v["ok"] == false);
    CHECK(v["matches"] == false);
    CHECK(v["signature_ok"] == true);  // the head is still the ledger's own
    CHECK(v["first_difference"] ==
          std::string(where).substr(1, std::string(where).find('/', 1) - 1));
  }

  // The ledger root changed: the signature no longer covers it, and it is not
  // the ledger's root at that size.
  json bad = report;
  bad["ledger"]["root"] = FlipHex(report["ledger"]["root"].get<std::string>(), 10);
  WriteJson(path + ".bad", bad);
  r = Ocop(d.flag() + " verify-report " + path + ".bad");
  INFO(r.out);
  CHECK(r.code == 1);
  v = json::parse(r.out);
  CHECK(v["ok"] == false);
  CHECK(v["signature_ok"] == false);
  CHECK(v["consistent"] == false);
  // ... or its size: the signature is over the size too.
  bad = report;
  bad["ledger"]["size"] = kEvents - 1;
  WriteJson(path + ".bad", bad);
  r = Ocop(d.flag() + " verify-report " + path + ".bad");
  CHECK(r.code == 1);
  CHECK(json::parse(r.out)["signature_ok"] == false);

  // Reports known at a seq, and as of a date, verify too.
  REQUIRE(
      Ocop(d.flag() + " report --period 2022 --unit CM --format json --known-at 14 --out " + path)
          .code == 0);
  report = json::parse(ReadAll(path));
  CHECK(report["ledger"]["size"] == 14);
  CHECK(report["recognised"]["total"] == 0);  // the decision is event 15
  r = Ocop(d.flag() + " verify-report " + path);
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(json::parse(r.out)["matches"] == true);
  bad = report;
  bad["recognised"]["total"] = 1;
  WriteJson(path + ".bad", bad);
  CHECK(Ocop(d.flag() + " verify-report " + path + ".bad").code == 1);

  REQUIRE(Ocop(d.flag() +
               " report --period 2022 --unit CM --format json --as-of 2022-09-19 --out " + path)
              .code == 0);
  report = json::parse(ReadAll(path));
  CHECK(report["recognised"]["total"] == 0);
  r = Ocop(d.flag() + " verify-report " + path);
  INFO(r.out);
  CHECK(r.code == 0);
  fs::remove(path);
  fs::remove(path + ".bad");
}

TEST_CASE(
    "verify-bundle: any altered byte of a bundle is refused, and it needs no data directory") {
  DataDir d;
  Populate(d);
  const std::string path = d.File("bundle.json");
  Run r = Ocop(d.flag() + " bundle P1 --out " + path);
  INFO(r.out);
  REQUIRE(r.code == 0);
  const json bundle = json::parse(ReadAll(path));
  REQUIRE(bundle["events"].size() == 7);  // RegisterIdea .. Certified
  REQUIRE(bundle["events"][0]["seq"] == kIdeaSeq);

  // Untouched: valid, with the data directory and without one.
  r = Ocop(d.flag() + " verify-bundle " + path);
  INFO(r.out);
  CHECK(r.code == 0);
  json v = json::parse(r.out);
  CHECK(v["ok"] == true);
  CHECK(v["proved"] == 7);
  CHECK(v["signature_ok"] == true);
  const std::string nowhere = "/nonexistent/ocop-no-such-data-" + std::to_string(getpid());
  r = Ocop("--data " + nowhere + " verify-bundle " + path);
  CHECK(r.code == 0);
  CHECK(json::parse(r.out)["ok"] == true);
  CHECK(!fs::exists(nowhere));

  auto refused = [&](const json& bad, const std::string& what) {
    INFO(what);
    WriteJson(path + ".bad", bad);
    Run b = Ocop("--data " + nowhere + " verify-bundle " + path + ".bad");
    INFO(b.out);
    CHECK(b.code == 1);
    json out = json::parse(b.out);
    CHECK(out["ok"] == false);
    CHECK(!out["problems"].empty());
    return out;
  };

  // One byte of a leaf (the product's name in its first event).
  json bad = bundle;
  std::string leaf = FromB64(bundle["events"][0]["leaf"].get<std::string>());
  REQUIRE(ToB64(leaf) == bundle["events"][0]["leaf"]);  // the test's base64 is the bundle's
  size_t at = leaf.find("U Minh");
  REQUIRE(at != std::string::npos);
  leaf[at + 5] ^= 0x01;
  bad["events"][0]["leaf"] = ToB64(leaf);
  v = refused(bad, "a leaf byte");
  CHECK(v["proved"] == 6);
  CHECK(v["signature_ok"] == true);
  CHECK(Mentions(v["problems"], "event 9 is not in the signed tree"));

  // One hash of one inclusion path.
  for (size_t e : {size_t{0}, size_t{3}, size_t{6}}) {
    bad = bundle;
    auto& p = bad["events"][e]["path"];
    REQUIRE(!p.empty());
    p[p.size() - 1] = FlipHex(p[p.size() - 1].get<std::string>(), 63);
    v = refused(bad, "a path hash of event " + std::to_string(e));
    CHECK(v["proved"] == 6);
    CHECK(v["signature_ok"] == true);
  }

  // The root: nothing is proved and the signature no longer covers it.
  bad = bundle;
  bad["tree_head"]["root"] = FlipHex(bundle["tree_head"]["root"].get<std::string>(), 0);
  v = refused(bad, "the root");
  CHECK(v["proved"] == 0);
  CHECK(v["signature_ok"] == false);

  // The signature: every event is still in the tree, but the head is not signed.
  bad = bundle;
  std::string sig = FromB64(bundle["tree_head"]["signature"].get<std::string>());
  REQUIRE(sig.size() == 64);
  sig[20] ^= 0x40;
  bad["tree_head"]["signature"] = ToB64(sig);
  v = refused(bad, "the signature");
  CHECK(v["proved"] == 7);
  CHECK(v["signature_ok"] == false);
  CHECK(Mentions(v["problems"], "signature"));

  // The size the head claims: the signature is over it.
  bad = bundle;
  bad["tree_head"]["size"] = kEvents + 1;
  v = refused(bad, "the tree size");
  CHECK(v["signature_ok"] == false);

  // An event left out of the history, first, in the middle or last: the
  // versions show the first two, the stream's head in the checkpoint the last.
  for (size_t e : {size_t{0}, size_t{3}, size_t{6}}) {
    bad = bundle;
    bad["events"].erase(e);
    v = refused(bad, "event " + std::to_string(e) + " left out");
    CHECK(Mentions(v["problems"], "version " + std::to_string(e + 1) + " is missing"));
    CHECK(v["complete"] == false);
  }
  CHECK(Mentions(v["problems"], "the events end at version 6: version 7 is missing"));
  // ... and a stream head rewritten to match the shortened bundle.
  bad["stream_head"]["version"] = 6;
  bad["stream_head"]["seq"] = bundle["events"][5]["seq"];
  v = refused(bad, "the stream head rewritten");
  CHECK(Mentions(v["problems"], "is not the one the signed stream-heads root commits to"));

  // The schema: one byte of the text carried, a file added, the schema event gone.
  bad = bundle;
  std::string schema = bundle["schema"]["workflow/ocop.capnp"];
  at = schema.find("certificate @");
  REQUIRE(at != std::string::npos);
  schema[at] = 'C';
  bad["schema"]["workflow/ocop.capnp"] = schema;
  v = refused(bad, "one byte of the schema");
  CHECK(Mentions(v["problems"],
                 "the schema file workflow/ocop.capnp differs from the one the log "
                 "committed to (event 1) from byte " +
                     std::to_string(at)));
  CHECK(v["schema_bound"] == false);
  bad = bundle;
  bad["schema"]["extra.capnp"] = "struct X {}";
  v = refused(bad, "a schema file added");
  CHECK(Mentions(v["problems"], "extra.capnp is not one the log committed to"));
  bad = bundle;
  bad.erase("schema_event");
  v = refused(bad, "the schema event left out");
  CHECK(Mentions(v["problems"], "bound to nothing"));

  // A head from another log: a checkpoint of a ledger with another key.
  {
    DataDir other;
    Populate(other);
    Run c = Ocop(other.flag() + " checkpoint");
    REQUIRE(c.code == 0);
    bad = bundle;
    bad["checkpoint"] = c.out;
    v = refused(bad, "another log's checkpoint");
    CHECK(Mentions(v["problems"], "the checkpoint"));
  }
  // The checkpoint's stream-heads line removed (its signature then fails too).
  bad = bundle;
  std::string note = bundle["checkpoint"];
  size_t line = note.find("ocop-stream-heads ");
  REQUIRE(line != std::string::npos);
  bad["checkpoint"] = note.substr(0, line) + note.substr(note.find('\n', line) + 1);
  v = refused(bad, "the stream-heads line removed");
  CHECK(Mentions(v["problems"], "the checkpoint"));
  // An old-format bundle, which proves no completeness, is not taken.
  bad = bundle;
  bad["format"] = "ocop-bundle-1";
  WriteJson(path + ".bad", bad);
  r = Ocop("--data " + nowhere + " verify-bundle " + path + ".bad");
  CHECK(r.code == 2);

  fs::remove(path);
  fs::remove(path + ".bad");
}

TEST_CASE("verify names the first event whose stored bytes were changed") {
  DataDir d;
  Populate(d);
  Run r = Ocop(d.flag() + " verify");
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out)["checked"] == kEvents);
  // A report sealed while the log was intact.
  const std::string report = d.File("sealed.json");
  REQUIRE(Ocop(d.flag() + " report --period 2022 --format json --out " + report).code == 0);
  REQUIRE(Ocop(d.flag() + " verify-report " + report).code == 0);

  TamperStoredEvent(d, kIdeaSeq, "U Minh");

  r = Ocop(d.flag() + " verify");
  INFO(r.out);
  CHECK(r.code == 1);
  json v = json::parse(r.out);
  CHECK(v["ok"] == false);
  CHECK(v["first_bad_seq"] == kIdeaSeq);
  CHECK(v["problem"].get<std::string>().find(std::to_string(kIdeaSeq)) != std::string::npos);

  // The operator can no longer make a bundle of P1 that verifies...
  const std::string bundle = d.File("bundle.json");
  REQUIRE(Ocop(d.flag() + " bundle P1 --out " + bundle).code == 0);
  r = Ocop("--data /nonexistent/ocop verify-bundle " + bundle);
  INFO(r.out);
  CHECK(r.code == 1);
  CHECK(Mentions(json::parse(r.out)["problems"], "event 9 is not in the signed tree"));
  // ... and the report sealed before no longer verifies against this log.
  r = Ocop(d.flag() + " verify-report " + report);
  INFO(r.out);
  CHECK(r.code == 1);
  CHECK(json::parse(r.out)["log_intact"] == false);
  fs::remove(report);
  fs::remove(bundle);
}

TEST_CASE(
    "verify-receipt: a receipt proves the certificate state offline, and every tamper is "
    "refused naming it") {
  DataDir d;
  Populate(d);
  const std::string path = d.File("receipt.json");
  Run r = Ocop(d.flag() + " receipt P1 --as-of 2023-01-01 --out " + path);
  INFO(r.out);
  REQUIRE(r.code == 0);
  const json receipt = json::parse(ReadAll(path));
  CHECK(receipt["status"]["certificate_state"] == "in_force");
  CHECK(receipt["status"]["stars"] == 4);
  CHECK(!receipt["status"].contains("subject"));  // nothing of the producer
  const std::string vkey = Ocop(d.flag() + " public-key --vkey")
                               .out.substr(0, Ocop(d.flag() + " public-key --vkey").out.find('\n'));
  const std::string nowhere = "/nonexistent/ocop-no-such-data-" + std::to_string(getpid());
  r = Ocop("--data " + nowhere + " verify-receipt " + path + " --vkey '" + vkey + "'");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out)["status"]["stars"] == 4);

  auto refused = [&](const json& bad, const std::string& what, const std::string& args = "") {
    INFO(what);
    WriteJson(path + ".bad", bad);
    Run b = Ocop("--data " + nowhere + " verify-receipt " + path + ".bad" + args);
    INFO(b.out);
    CHECK(b.code == 1);
    json out = json::parse(b.out);
    CHECK(out["ok"] == false);
    return out["problems"];
  };
  json bad = receipt;
  bad["status"]["stars"] = 5;
  CHECK(Mentions(refused(bad, "stars"), "is not what the events say"));
  bad = receipt;
  bad["status"]["certificate_state"] = "revoked";
  CHECK(Mentions(refused(bad, "state"), "is not what the events say"));
  bad = receipt;
  bad["events"].erase(bad["events"].size() - 1);
  CHECK(Mentions(refused(bad, "the last event left out"), "version 7 is missing"));
  bad = receipt;
  std::string leaf = FromB64(receipt["events"][2]["leaf"].get<std::string>());
  leaf[leaf.size() / 2] ^= 0x01;
  bad["events"][2]["leaf"] = ToB64(leaf);
  CHECK(Mentions(refused(bad, "one bit of an event"), "is not in the signed tree"));
  {
    DataDir other;
    Populate(other);
    bad = receipt;
    bad["checkpoint"] = Ocop(other.flag() + " checkpoint").out;
    CHECK(Mentions(refused(bad, "another log's checkpoint"), "the checkpoint"));
    const std::string ovkey = Ocop(other.flag() + " public-key --vkey").out;
    CHECK(Mentions(refused(receipt, "another log's key",
                           " --vkey '" + ovkey.substr(0, ovkey.find('\n')) + "'"),
                   "signed by another log"));
  }
  const std::string wvkey = Ocop("witness key --out " + d.File("w.key")).out;
  CHECK(Mentions(refused(receipt, "no cosignature",
                         " --witness-vkey '" + wvkey.substr(0, wvkey.find('\n')) + "'"),
                 "no witness trusted here cosigned"));
}
