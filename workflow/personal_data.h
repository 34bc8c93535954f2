// Personal data of producers (issue 17; Decree 13/2023/NĐ-CP): who counts as
// a person, how their fields are sealed at the program's edge, and how a read
// shows them.
//
// A household business (HKD), a cooperative group (THT) or a production
// facility (CSSX) is a person or a few: its name, representative, phone and
// address are personal data. Those fields are sealed before the decision
// (Seal, called by workflow::Service, never by the pure decider) with the
// producer's own key (ledger/subject_keys.h), so the log, its tree, the read
// models and every backup hold ciphertext only; EraseSubjectData destroys the
// key. An enterprise's or a cooperative's (DN, HTX) fields are a legal
// person's, public, and stay as given.
//
// Promises:
//  * Seal is deterministic for a producer's key: the same command seals to the
//    same bytes (its idempotency digest holds), and it replaces whatever
//    `personal_fields` the sender put in the command.
//  * Reveal never fails: a field shows its plaintext while the key exists,
//    "[đã xoá]" once erased (or its key is missing, as on a replica, which is
//    never given keys), "[hỏng]" if its ciphertext does not open.
//  * Nothing here logs: no personal field reaches spdlog.
#pragma once

#include <capnp/message.h>

#include "ledger/subject_keys.h"
#include "workflow/ocop.capnp.h"
#include "workflow/state.h"

namespace ocop::workflow {

// HKD, THT or CSSX.
bool IsPersonalForm(schema::LegalForm form);

// True if `command` carries fields Seal must see (a RegisterSubject).
bool CarriesPersonalFields(schema::Command::Reader command);

// Copies `command` into `out` (its root), with the personal fields of a
// RegisterSubject of a person sealed for its subject and `personal_fields`
// set: sealed for a person, plain for a legal person.
Status Seal(ledger::SubjectKeys* keys, schema::Command::Reader command,
            capnp::MallocMessageBuilder* out);

// The fields of `s` as a reader is shown them (see the promises).
void Reveal(ledger::SubjectKeys* keys, SubjectState* s);

}  // namespace ocop::workflow
