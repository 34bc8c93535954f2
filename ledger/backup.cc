#include "ledger/backup.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/rate_limiter.h>
#include <rocksdb/utilities/backup_engine.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "ledger/durable_file.h"
#include "ledger/encoding.h"
#include "ledger/log_origin.h"
#include "ledger/signed_heads.h"
#include "ledger/subject_keys.h"

namespace ocop::ledger {
namespace fs = std::filesystem;

struct BackupAccess {
  static rocksdb::DB* Db(Ledger* l) { return l->db_; }
};

namespace {

// The files beside the database a restored ledger needs.
const char* const kLedgerFiles[] = {"signing-key.pem", kOriginFile, SignedHeads::kFileName};
// And the directory of the subjects' keys (ledger/subject_keys.h): a backup
// holds the keys alive when it is taken, none of those erased before.
const char* const kLedgerDirs[] = {SubjectKeys::kDirName};
constexpr const char* kHeadFile = "head.json";

std::string EngineDir(const std::string& dir) { return (fs::path(dir) / "engine").string(); }
std::string FilesDir(const std::string& dir, uint32_t id) {
  return (fs::path(dir) / "files" / std::to_string(id)).string();
}

// An exclusive flock on DIR/backup.lock while it lives: BackupEngine admits
// one user of its directory at a time.
class DirLock {
 public:
  Status Take(const std::string& dir) {
    std::string path = (fs::path(dir) / "backup.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::Busy("the backup directory " + dir +
                          " is in use by another backup or restore; wait for it to finish");
    }
    return Status::OK();
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsNoSpace()) return Status::NoSpace(what + ": the disk is full: " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

std::string HeadJson(uint32_t id, const SignedTreeHead& h) {
  // Flat, fixed order: read back by ParseHead below, by hand by operators.
  return "{\"backup\":" + std::to_string(id) + ",\"size\":" + std::to_string(h.size) +
         ",\"root\":\"" + merkle::ToHex(h.root) + "\",\"signature\":\"" + Base64(h.signature) +
         "\",\"key_id\":\"" + h.key_id_hex + "\"}\n";
}

// The value of "key": in HeadJson's output.
bool Field(const std::string& text, const std::string& key, std::string* value) {
  std::string k = "\"" + key + "\":";
  size_t at = text.find(k);
  if (at == std::string::npos) return false;
  at += k.size();
  if (at < text.size() && text[at] == '"') {
    size_t end = text.find('"', at + 1);
    if (end == std::string::npos) return false;
    *value = text.substr(at + 1, end - at - 1);
  } else {
    size_t end = text.find_first_of(",}", at);
    if (end == std::string::npos) return false;
    *value = text.substr(at, end - at);
  }
  return true;
}

Status ParseHead(const std::string& path, SignedTreeHead* h) {
  std::string text, size, root, sig;
  Status s = ReadWholeFile(path, &text);
  if (!s.ok()) return Status::Tampered("the backup lacks " + path + ": " + s.message());
  try {
    if (!Field(text, "size", &size) || !Field(text, "root", &root) ||
        !Field(text, "signature", &sig) || !Field(text, "key_id", &h->key_id_hex))
      throw std::invalid_argument("field");
    h->size = std::stoull(size);
  } catch (...) {
    return Status::Tampered(path + " is not a signed head (size, root, signature, key_id)");
  }
  if (!merkle::FromHex(root, &h->root) || !FromBase64(sig, &h->signature)) {
    return Status::Tampered(path + " has an unreadable root or signature");
  }
  return Status::OK();
}

Status OpenEngine(const std::string& dir, uint64_t rate_limit, rocksdb::BackupEngine** out) {
  rocksdb::BackupEngineOptions o(EngineDir(dir));
  o.share_table_files = true;
  o.share_files_with_checksum = true;
  o.sync = true;
  if (rate_limit) o.backup_rate_limit = rate_limit;
  return FromRocks(rocksdb::BackupEngine::Open(rocksdb::Env::Default(), o, out),
                   "opening the backup store in " + dir);
}

// What the engine's record of backup `id` (engine/meta/ID: a header, then
// one line per file, its path first) names that is not there.
std::string MissingFiles(const std::string& dir, uint32_t id) {
  std::string meta;
  const std::string engine = EngineDir(dir);
  if (!ReadWholeFile((fs::path(engine) / "meta" / std::to_string(id)).string(), &meta).ok()) {
    return "its record engine/meta/" + std::to_string(id) + " is missing";
  }
  std::istringstream lines(meta);
  std::string missing;
  std::error_code ec;
  for (std::string line; std::getline(lines, line);) {
    std::string path = line.substr(0, line.find(' '));
    if (path.find('/') == std::string::npos) continue;  // the header's lines
    if (!fs::exists(fs::path(engine) / path, ec)) missing += (missing.empty() ? "" : ", ") + path;
  }
  return missing.empty() ? "a file has another size than when it was copied"
                         : "files missing: " + missing;
}

Status DamagedBackups(const std::string& dir, std::vector<uint32_t>* ids) {
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus os = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::Env::Default(), rocksdb::BackupEngineOptions(EngineDir(dir)), &raw);
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  if (!os.ok()) return FromRocks(os, "reading the backups in " + dir);
  std::vector<rocksdb::BackupID> broken;
  engine->GetCorruptedBackups(&broken);
  ids->assign(broken.begin(), broken.end());
  return Status::OK();
}

}  // namespace

Status ListBackups(const std::string& backup_dir, std::vector<uint32_t>* ids) {
  ids->clear();
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine;
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus os = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::Env::Default(), rocksdb::BackupEngineOptions(EngineDir(backup_dir)), &raw);
  engine.reset(raw);
  if (!os.ok()) return FromRocks(os, "reading the backups in " + backup_dir);
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  std::error_code ec;
  for (const auto& i : infos) {
    if (fs::exists(fs::path(FilesDir(backup_dir, i.backup_id)) / kHeadFile, ec))
      ids->push_back(i.backup_id);
  }
  return Status::OK();
}

Status BackupLedger(Ledger* ledger, const std::string& backup_dir, const BackupOptions& options,
                    BackupResult* out) {
  *out = BackupResult();
  std::error_code ec;
  fs::create_directories(fs::path(backup_dir) / "files", ec);
  if (ec) return Status::IOError("cannot create " + backup_dir + ": " + ec.message());
  DirLock lock;
  Status s = lock.Take(backup_dir);
  if (!s.ok()) return s;
  rocksdb::BackupEngine* raw = nullptr;
  s = OpenEngine(backup_dir, options.rate_limit, &raw);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);

  // A backup a killed process left without its files is not one.
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  for (const auto& i : infos) {
    if (!fs::exists(fs::path(FilesDir(backup_dir, i.backup_id)) / kHeadFile, ec)) {
      engine->DeleteBackup(i.backup_id);
    }
  }
  for (const auto& e : fs::directory_iterator(fs::path(backup_dir) / "files", ec)) {
    if (e.path().extension() == ".tmp") fs::remove_all(e.path(), ec);
  }
  const uint64_t before = DirBytes(backup_dir);

  // The head first, then the files beside the database, then the database:
  // every head they hold covers events the copy will hold.
  s = ledger->TreeHead(ledger->Size(), &out->head);
  if (!s.ok()) return s;
  const std::string staging = (fs::path(backup_dir) / "files" / "next.tmp").string();
  fs::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging + ": " + ec.message());
  std::vector<std::string> names(std::begin(kLedgerFiles), std::end(kLedgerFiles));
  names.insert(names.end(), options.extra_files.begin(), options.extra_files.end());
  for (const std::string& name : names) {
    fs::path from = fs::path(ledger->dir()) / name;
    if (!fs::exists(from, ec)) continue;
    std::string contents;
    s = ReadWholeFile(from.string(), &contents);
    if (s.ok()) {
      mode_t mode =
          fs::status(from, ec).permissions() == (fs::perms::owner_read | fs::perms::owner_write)
              ? 0600
              : 0644;
      s = WriteFileDurably((fs::path(staging) / name).string(), contents, mode);
    }
    if (!s.ok()) return s;
  }
  for (const char* name : kLedgerDirs) {
    fs::path from = fs::path(ledger->dir()) / name;
    if (!fs::is_directory(from, ec)) continue;
    fs::create_directories(fs::path(staging) / name, ec);
    for (const auto& e : fs::directory_iterator(from, ec)) {
      std::string contents;
      s = ReadWholeFile(e.path().string(), &contents);
      if (s.ok()) {
        s = WriteFileDurably((fs::path(staging) / name / e.path().filename()).string(), contents,
                             0600);
      }
      if (!s.ok()) return s;
    }
  }

  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = false;  // the live WAL is copied instead: no stall of writers
  rocksdb::BackupID id = 0;
  s = FromRocks(engine->CreateNewBackupWithMetadata(create, BackupAccess::Db(ledger),
                                                    HeadJson(0, out->head), &id),
                "backing up " + ledger->dir() + " into " + backup_dir);
  if (!s.ok()) return s;
  s = WriteFileDurably((fs::path(staging) / kHeadFile).string(), HeadJson(id, out->head), 0644);
  if (!s.ok()) return s;
  fs::rename(staging, FilesDir(backup_dir, id), ec);
  if (ec) return Status::IOError("cannot name backup " + std::to_string(id) + ": " + ec.message());
  s = SyncDirectory((fs::path(backup_dir) / "files").string());
  if (!s.ok()) return s;

  if (options.keep > 0) {
    s = FromRocks(engine->PurgeOldBackups(options.keep), "removing old backups");
    if (!s.ok()) return s;
    std::vector<rocksdb::BackupInfo> left;
    engine->GetBackupInfo(&left);
    std::map<uint32_t, bool> alive;
    for (const auto& i : left) alive[i.backup_id] = true;
    for (const auto& e : fs::directory_iterator(fs::path(backup_dir) / "files", ec)) {
      std::string n = e.path().filename().string();
      if (n.find_first_not_of("0123456789") == std::string::npos && !alive.count(std::stoul(n)))
        fs::remove_all(e.path(), ec);
    }
  }
  rocksdb::BackupInfo info;
  if (engine->GetBackupInfo(id, &info).ok()) out->bytes_total = info.size;
  std::vector<rocksdb::BackupInfo> now;
  engine->GetBackupInfo(&now);
  out->kept = static_cast<uint32_t>(now.size());
  const uint64_t after = DirBytes(backup_dir);
  out->bytes_new = after > before ? after - before : 0;
  out->id = id;
  return Status::OK();
}

Status RestoreLedger(const std::string& backup_dir, uint32_t id, const std::string& data_dir,
                     const Options& options, RestoreResult* out) {
  *out = RestoreResult();
  std::error_code ec;
  if (fs::exists(data_dir, ec)) {
    return Status::Refused(data_dir + " exists; restore writes only into a new directory");
  }
  if (!fs::exists(EngineDir(backup_dir), ec)) {
    return Status::NotFound("no backup in " + backup_dir + " (no engine/ directory)");
  }
  DirLock lock;
  Status s = lock.Take(backup_dir);
  if (!s.ok()) return s;
  std::vector<uint32_t> ids;
  s = ListBackups(backup_dir, &ids);
  if (!s.ok()) return s;
  // A backup the engine found incomplete when opening (a file missing or of
  // another size) is not listed: named, never silently passed over for an
  // older one.
  std::vector<uint32_t> broken;
  s = DamagedBackups(backup_dir, &broken);
  if (!s.ok()) return s;
  uint32_t newest = ids.empty() ? 0 : ids.back();
  for (uint32_t b : broken) newest = std::max(newest, b);
  if (id == 0) id = newest;
  if (std::find(broken.begin(), broken.end(), id) != broken.end()) {
    return Status::Tampered("backup " + std::to_string(id) + " in " + backup_dir +
                            " is damaged: " + MissingFiles(backup_dir, id) +
                            (ids.empty()
                                 ? std::string()
                                 : "; the newest intact backup is " + std::to_string(ids.back()) +
                                       " (--backup " + std::to_string(ids.back()) + ")"));
  }
  if (ids.empty()) return Status::NotFound("no complete backup in " + backup_dir);
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
    return Status::NotFound("no complete backup " + std::to_string(id) + " in " + backup_dir);
  }
  const std::string what = "backup " + std::to_string(id) + " in " + backup_dir;

  rocksdb::BackupEngineReadOnly* raw = nullptr;
  s = FromRocks(
      rocksdb::BackupEngineReadOnly::Open(
          rocksdb::Env::Default(), rocksdb::BackupEngineOptions(EngineDir(backup_dir)), &raw),
      "reading " + what);
  if (!s.ok()) return s;
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  // Every file's size and CRC32C against what was recorded when it was copied.
  rocksdb::IOStatus vs = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!vs.ok()) return Status::Tampered(what + " is damaged: " + vs.ToString());
  const std::string files = FilesDir(backup_dir, id);
  s = ParseHead((fs::path(files) / kHeadFile).string(), &out->head);
  if (!s.ok()) return s;

  auto fail = [&](Status why) {
    fs::remove_all(data_dir, ec);
    return why;
  };
  fs::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create " + data_dir + ": " + ec.message());
  vs = engine->RestoreDBFromBackup(id, data_dir, data_dir);
  if (!vs.ok()) return fail(Status::Tampered("cannot restore " + what + ": " + vs.ToString()));
  for (const auto& e : fs::directory_iterator(files, ec)) {
    if (e.path().filename() == kHeadFile) continue;
    fs::copy(e.path(), fs::path(data_dir) / e.path().filename(), fs::copy_options::recursive, ec);
    if (ec) return fail(Status::IOError("cannot copy " + e.path().string() + ": " + ec.message()));
  }
  engine.reset();

  // The ledger as restored: its signed heads checked at open, then every
  // event and subtree re-hashed, then the backup's own head.
  std::unique_ptr<Ledger> l;
  Options o = options;
  o.create_if_missing = false;
  s = Ledger::Open(data_dir, o, &l);
  if (!s.ok()) return fail(Status::Tampered(what + " does not open as a ledger: " + s.message()));
  if (l->Size() < out->head.size) {
    return fail(Status::Tampered(what + " holds " + std::to_string(l->Size()) +
                                 " events but its head was signed at size " +
                                 std::to_string(out->head.size)));
  }
  if (!Signer::Verify(l->signer().public_key(), TreeHeadMessage(out->head.size, out->head.root),
                      out->head.signature) ||
      out->head.key_id_hex != l->signer().key_id_hex()) {
    return fail(Status::Tampered(what + ": the signature of its head (size " +
                                 std::to_string(out->head.size) +
                                 ") does not verify with its signing key"));
  }
  s = l->Verify(&out->verify);
  if (!s.ok() || out->verify.first_bad_seq != 0) {
    return fail(Status::Tampered(
        what + ": event " + std::to_string(out->verify.first_bad_seq) +
        " does not verify: " + (out->verify.problem.empty() ? s.message() : out->verify.problem)));
  }
  SignedTreeHead at;
  s = l->TreeHead(out->head.size, &at);
  if (!s.ok()) return fail(s);
  if (at.root != out->head.root) {
    return fail(Status::Tampered(what + ": its events hash to root " + merkle::ToHex(at.root) +
                                 " at size " + std::to_string(out->head.size) +
                                 ", not the signed " + merkle::ToHex(out->head.root)));
  }
  out->events = l->Size();
  out->id = id;
  return Status::OK();
}

}  // namespace ocop::ledger
