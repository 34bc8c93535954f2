// Decide: whether a command may happen, and if so which events record it.
//
// Decide reads states only through a View and writes nothing: given the same
// states and command it gives the same events or the same refusal. The I/O
// (loading states from the ledger, appending) is the Service's.
//
// Refusals:
//   InvalidArgument  a value the command may not carry, or an unknown
//                    reference (unit, producer, product, council), with the
//                    field path and what is allowed
//   Forbidden        outside the acting principal's role or unit
//   Refused          illegal in the OCOP workflow at this point
//   Conflict         the product's stream is not at expected_version
// A refusal about one field of the command carries its path in
// Status::field() ("decision.issuer", "items[4].product", "effective" for an
// act whose date makes it illegal), set where the refusal is made; the HTTP
// error and `ocop submit` give it as "field", and the dashboard's form shows
// the message beside that field. A refusal of the act as a whole (outside
// the principal's authority) names none.
#pragma once

#include <capnp/message.h>

#include <memory>
#include <string>
#include <vector>

#include "ledger/status.h"
#include "workflow/ocop.capnp.h"
#include "workflow/state.h"
#include "workflow/stream_id.h"

namespace ocop::workflow {

// A stored event as an annulment needs to know it.
struct EventInfo {
  uint64_t seq = 0;
  std::string stream;
  std::string type;                                                // its payload's name
  schema::Payload::Which kind = schema::Payload::IDEA_REGISTERED;  // the same, to compare
  std::string actor_unit;
};

// Read access to current states. Pointers stay valid until the view changes.
// A stream with no events yields a state with exists == false (or no grants).
class View {
 public:
  virtual ~View() = default;
  virtual Status Unit(const std::string& code, const UnitState** out) = 0;
  virtual Status Principal(const std::string& id, const PrincipalState** out) = 0;
  virtual Status Council(const std::string& id, const CouncilState** out) = 0;
  virtual Status Subject(const std::string& id, const SubjectState** out) = 0;
  virtual Status Product(const std::string& id, const ProductState** out, uint64_t* version) = 0;
  virtual Status Dispute(const std::string& id, const DisputeState** out) = 0;
  // The products that entered the round of `year` (round/YEAR).
  virtual Status Round(int year, const RoundState** out) = 0;
  // The product's events that count (annulled ones left out), in record
  // order, with those a batch decided before this command: for judging an
  // act dated before the product's latest (workflow/admissible.h).
  virtual Status ProductEvents(const std::string& id, std::vector<ProductEvent>* out) = 0;
  // NotFound if there is no such event; annulled tells whether an
  // EventAnnulled already names it.
  virtual Status Event(uint64_t seq, EventInfo* out, bool* annulled) = 0;
};

// Who acts. A superuser (local use without --as) may do anything an admin,
// officer, council or authority could, anywhere; every act is still recorded
// under the principal's name.
struct Principal {
  std::string id;
  bool superuser = false;
};

// One event to append: its stream and its payload (root: schema::Payload).
struct PendingEvent {
  std::string stream;
  std::string type;  // the payload's JSON name, e.g. "Certified"
  std::unique_ptr<capnp::MallocMessageBuilder> payload;
  // An entry: appended to a stream the decision did not read (a round's
  // record of the dossiers entered), so it rests on no version of it and is
  // appended at whatever version the stream has. Other events rest on the
  // version of their stream that the decision read.
  bool entry = false;
};

struct Decided {
  std::vector<PendingEvent> events;
  // The actor recorded with every event: principal, the role and unit of the
  // grant that authorised the act.
  std::string role;
  std::string unit;
};

Status Decide(View& view, const Principal& who, schema::Command::Reader command, Decided* out);

}  // namespace ocop::workflow
