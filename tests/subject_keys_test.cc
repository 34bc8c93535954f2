// Erasure without breaking proofs (issue 17, item 5): personal data sealed
// with a per-subject key kept outside the hashed bytes; erasing destroys the
// key, leaves no byte of it (nor of the plaintext) in the data directory or
// in a backup taken afterwards, and changes no root, proof or verification.
#include <capnp/message.h>
#include <capnp/serialize.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ledger/backup.h"
#include "ledger/event.capnp.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/subject_keys.h"

namespace fs = std::filesystem;
namespace lg = ocop::ledger;

namespace {

// Deterministic "randomness": a counter's bytes, so runs are identical.
lg::RandomSource Counter() {
  auto n = std::make_shared<uint8_t>(0);
  return [n](size_t len, std::string* out) {
    out->clear();
    for (size_t i = 0; i < len; ++i) out->push_back(static_cast<char>(++*n * 37 + i));
  };
}

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Every file under `dir` that contains `needle`.
std::vector<std::string> Holding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && Slurp(e.path()).find(needle) != std::string::npos)
      found.push_back(e.path().string());
  }
  return found;
}

// An event whose payload carries a sealed value (the ledger's payloads are
// opaque structs; the Actor struct lends it a text field, as the benches do).
lg::NewEvent SealedEvent(const std::string& subject, const std::string& sealed) {
  capnp::MallocMessageBuilder msg;
  auto a = msg.initRoot<lg::schema::Actor>();
  a.setPrincipal(lg::merkle::ToHex(lg::merkle::Sha256(subject)));
  a.setRole(capnp::Text::Reader(sealed.data(), sealed.size()));
  auto words = capnp::messageToFlatArray(msg);
  lg::NewEvent e;
  e.stream = "subject/" + subject;
  e.type = "SubjectRegistered";
  e.effective = "2024-03-01";
  e.actor = {"vpdp.camau", "officer", "CM"};
  e.payload.assign(reinterpret_cast<const char*>(words.asBytes().begin()), words.asBytes().size());
  return e;
}

}  // namespace

TEST_CASE("erasing a subject's key leaves no byte of its data and every proof intact") {
  const std::string dir =
      (fs::temp_directory_path() / ("ocop-erase-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::remove_all(dir + "-backup");
  lg::Options o;
  o.clock = [] { return int64_t{1700000000000000}; };
  std::unique_ptr<lg::Ledger> l;
  REQUIRE(lg::Ledger::Open(dir, o, &l).ok());
  std::unique_ptr<lg::SubjectKeys> keys;
  REQUIRE(lg::SubjectKeys::Open(dir, Counter(), &keys).ok());

  const std::string hoa = "Nguyễn Thị Hoa|0913 456 789|ấp 3, xã Tân Hưng, Cái Nước";
  const std::string lan = "Trần Văn Lân|0987 111 222|khóm 5, thị trấn Năm Căn";
  std::string sealed_hoa, sealed_lan;
  REQUIRE(keys->Seal("HKD-HOA", hoa, &sealed_hoa).ok());
  REQUIRE(keys->Seal("HKD-LAN", lan, &sealed_lan).ok());
  CHECK(sealed_hoa.find("Hoa") == std::string::npos);
  lg::AppendRequest r;
  r.events = {SealedEvent("HKD-HOA", sealed_hoa), SealedEvent("HKD-LAN", sealed_lan)};
  lg::AppendResult res;
  REQUIRE(l->Append(r, &res).ok());
  lg::SignedTreeHead before;
  REQUIRE(l->TreeHead(l->Size(), &before).ok());
  lg::InclusionProof proof;
  REQUIRE(l->Inclusion(1, 2, &proof).ok());

  // Sealed to its subject: it opens, and not as another's.
  std::string plain;
  REQUIRE(keys->Unseal("HKD-HOA", sealed_hoa, &plain).ok());
  CHECK(plain == hoa);
  CHECK(keys->Unseal("HKD-LAN", sealed_hoa, &plain).code() == ocop::Status::Code::kTampered);

  // The key is in the directory before the erasure (so the search can fail).
  std::string hoa_key = Slurp(fs::path(dir) / lg::SubjectKeys::kDirName /
                              lg::merkle::ToHex(lg::merkle::Sha256(std::string("HKD-HOA"))));
  REQUIRE(hoa_key.size() == 32);
  CHECK(!Holding(dir, hoa_key).empty());

  REQUIRE(keys->Erase("HKD-HOA").ok());
  CHECK(keys->Unseal("HKD-HOA", sealed_hoa, &plain).IsNotFound());
  REQUIRE(keys->Unseal("HKD-LAN", sealed_lan, &plain).ok());
  CHECK(plain == lan);

  // No byte of the key nor of the data in any file of the directory.
  CHECK(Holding(dir, hoa_key).empty());
  CHECK(Holding(dir, "Nguyễn Thị Hoa").empty());
  CHECK(Holding(dir, "0913 456 789").empty());

  // The log, its root and the old proof are as they were.
  lg::VerifyResult v;
  REQUIRE(l->Verify(&v).ok());
  CHECK(v.first_bad_seq == 0);
  lg::SignedTreeHead after;
  REQUIRE(l->TreeHead(2, &after).ok());
  CHECK(after.root == before.root);
  CHECK(lg::merkle::VerifyInclusion(proof.leaf_hash, 0, 2, proof.path, before.root));

  // A backup taken after the erasure holds the living key, not the erased.
  lg::BackupResult b;
  REQUIRE(lg::BackupLedger(l.get(), dir + "-backup", {}, &b).ok());
  std::string lan_key = Slurp(fs::path(dir) / lg::SubjectKeys::kDirName /
                              lg::merkle::ToHex(lg::merkle::Sha256(std::string("HKD-LAN"))));
  CHECK(!Holding(dir + "-backup", lan_key).empty());
  CHECK(Holding(dir + "-backup", hoa_key).empty());
  l.reset();
  fs::remove_all(dir);
  fs::remove_all(dir + "-backup");
}

TEST_CASE("a field sealed as text is deterministic per key, and unreadable once erased") {
  const std::string dir =
      (fs::temp_directory_path() / ("ocop-sealtext-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  std::unique_ptr<lg::SubjectKeys> keys;
  REQUIRE(lg::SubjectKeys::Open(dir, Counter(), &keys).ok());
  std::string a, b, other, plain;
  REQUIRE(keys->SealText("HKD-1", "Nguyễn Thị Hoa", &a).ok());
  REQUIRE(keys->SealText("HKD-1", "Nguyễn Thị Hoa", &b).ok());
  CHECK(a == b);  // the same command seals to the same bytes (idempotency)
  REQUIRE(keys->SealText("HKD-1", "Nguyễn Thị Hòa", &other).ok());
  CHECK(other != a);
  // Base64 text: what an event's Text field can hold.
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
        std::string::npos);
  REQUIRE(keys->UnsealText("HKD-1", a, &plain).ok());
  CHECK(plain == "Nguyễn Thị Hoa");
  // Bound to its subject: moved to another, it does not open.
  REQUIRE(keys->SealText("HKD-2", "x", &other).ok());
  CHECK(keys->UnsealText("HKD-2", a, &plain).code() == ocop::Status::Code::kTampered);
  CHECK(keys->UnsealText("HKD-1", "not base64!", &plain).code() == ocop::Status::Code::kTampered);
  REQUIRE(keys->Erase("HKD-1").ok());
  CHECK(keys->UnsealText("HKD-1", a, &plain).IsNotFound());
  CHECK(!keys->Has("HKD-1"));
  REQUIRE(keys->UnsealText("HKD-2", other, &plain).ok());
  fs::remove_all(dir);
}
