// history: every event of a product, with proofs if asked.
#include "query/queries.h"

#include "replay/history.h"

#include "query/arguments.h"

namespace ocop::query {

using workflow::Date;

Status QueryHistory(const Reader& r, const HistoryQuery& q, Json* out) {
  replay::HistoryOptions o;
  o.proofs = q.proofs;
  if (!q.as_of.empty()) {
    Date d;
    Status s = DateOr("as_of", q.as_of, r.today, &d);
    if (!s.ok()) return s;
    o.at.as_of = d;
  }
  Status s = KnownAt(r, q.known_at, &o.at.known_at);
  std::string id;
  if (s.ok()) s = ProductId(r, q.product, &id);  // ids are case-insensitive
  if (!s.ok()) return s;
  // Unless asked otherwise, the log as far as the view has folded it: the
  // history, and the head its proofs are against, are of one point.
  if (o.at.known_at == 0) o.at.known_at = r.view->checkpoint();
  return replay::ProductHistory(r.ledger, id, o, out);
}

}  // namespace ocop::query
