// Service: the workflow's I/O edge. Parses nothing and prints nothing: it
// loads the states a command needs from the ledger, asks Decide, and appends
// the events, with the versions it read as expectations so that a concurrent
// writer is never overwritten (a lost race is decided again, up to 3 times).
//
// A command's `id` is its idempotency key, bound to the command itself: the
// same id with the same command returns the first result and appends nothing,
// even when deciding it again would now be refused; with another command it
// is a conflict.
//
// The Service keeps the states it folded, each with the stream version it is
// the fold of, and reuses one only while the ledger's version of its stream
// is still that version: one read of the version instead of reading and
// folding the stream. What is decided is the same as without it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "workflow/decide.h"

namespace ocop::workflow {

struct Outcome {
  std::vector<uint64_t> seqs;
  bool duplicate = false;
};

class Service {
 public:
  explicit Service(ledger::Ledger* ledger);
  ~Service();

  // Decides and appends one command. Safe to call from many threads at
  // once: commands submitted together are decided and appended together,
  // as by SubmitEach.
  Status Submit(const Principal& who, schema::Command::Reader command, Outcome* out);
  // Decides and appends each command on its own, exactly as Submit would if
  // each came from a caller of its own at the same moment (each is refused,
  // or decided again after a lost race, alone), but in one group commit: one
  // write and one sync carry them all. A command that reads or writes what
  // an earlier one of `in` writes is decided after that one is appended, in
  // a further group commit. (*statuses)[i] and (*out)[i] are command i's.
  struct Submission {
    Principal who;
    schema::Command::Reader command;
  };
  void SubmitEach(const std::vector<Submission>& in, std::vector<Status>* statuses,
                  std::vector<Outcome>* out);
  // Decides every command in order, each seeing the events of those before
  // it, and appends them in one atomic call: all or none. On a refusal,
  // *failed_index names the command refused.
  Status SubmitAll(const Principal& who, const std::vector<schema::Command::Reader>& commands,
                   std::vector<Outcome>* out, size_t* failed_index);

 private:
  struct StateCache;
  struct Combiner;
  ledger::Ledger* ledger_;
  std::unique_ptr<StateCache> cache_;
  std::unique_ptr<Combiner> combiner_;
};

}  // namespace ocop::workflow
