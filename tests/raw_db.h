// A closed ledger's RocksDB database opened raw, every column family with it,
// for tests that look at or change what is stored the way an older program or
// an attacker would. No Ledger (and no ocop process) may have the directory
// open while a RawDb does: RocksDB's own lock refuses the second opener.
#pragma once

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ocop::ledger_support {

class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles_, &db);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  ~RawDb() {
    for (auto* h : handles_) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // The family called `name`; the test fails if the database has none.
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) const {
    for (auto* h : handles_) {
      if (h->GetName() == name) return h;
    }
    FAIL("no column family " << name);
    return nullptr;
  }
  // Every key of `family` with its value, in key order.
  std::map<std::string, std::string> All(rocksdb::ColumnFamilyHandle* family) const {
    std::map<std::string, std::string> all;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      all[it->key().ToString()] = it->value().ToString();
    REQUIRE(it->status().ok());
    return all;
  }
  // The value of `key`, which must be there.
  std::string Get(rocksdb::ColumnFamilyHandle* family, const std::string& key) const {
    std::string v;
    REQUIRE(db->Get(rocksdb::ReadOptions(), family, key, &v).ok());
    return v;
  }
  void Put(rocksdb::ColumnFamilyHandle* family, const std::string& key, const std::string& v) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), family, key, v).ok());
  }
  // The ledger's format mark (ledger/ledger_internal.h), in the default family.
  std::string Format() const { return Get(db->DefaultColumnFamily(), "format"); }

  rocksdb::DB* db = nullptr;

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace ocop::ledger_support
