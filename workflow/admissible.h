// Acts judged on their own date.
//
// An act is legal or not by the product's state on the act's effective date,
// not by its state today: an inspection dated before a re-evaluation dossier
// opened finds the certificate in force; one dated before the product was
// certified finds none. StateOn gives that state, the fold of the events that
// had taken effect by then.
//
// A back-dated act also changes what the product's later acts rested on. The
// stage rules of the workflow (Admissible) are checked again over the
// product's events in effective-date order with the new act among them; an
// act that was admissible and no longer would be is named by its seq. The
// way to change the past stays AnnulEvent.
#pragma once

#include <vector>

#include "ledger/status.h"
#include "workflow/state.h"

namespace ocop::workflow {

// The product as it stood on `date`: the fold of those of `events` (in record
// order) that took effect on or before it.
ProductState StateOn(const std::vector<ProductEvent>& events, Date date);

// Whether `e` may follow `before` on e's effective date, by the stage rules
// of the workflow for acts on the product's stream: a review needs what it
// reviews, a dossier a plan (or direct entry, or a past certificate) and no
// certificate in force for a new entry, a score or decision an open dossier,
// an inspection or promotion a certificate in force. Refused says why.
Status Admissible(const ProductState& before, const EventRef& e);

// Whether `payload` moves the product to another stage (a review, a plan, a
// dossier, a score, a decision, a revocation).
bool SetsStage(schema::Payload::Reader payload);

// OK unless an event of `recorded` dated after `effective`, admissible in
// effective-date order, would not be with `added` (acts dated `effective`,
// recorded after all of `recorded`) among them: then Refused, naming its seq.
Status LaterActsStayLegal(const std::vector<ProductEvent>& recorded,
                          const std::vector<ProductEvent>& added, Date effective);

}  // namespace ocop::workflow
