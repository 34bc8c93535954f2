// status: a product's state as of a date, as recorded up to a point.
#include "query/queries.h"

#include "projections/status_json.h"
#include "replay/as_of.h"

#include "query/arguments.h"

namespace ocop::query {

using workflow::Date;

Status QueryStatus(const Reader& r, const StatusQuery& asked, Json* out) {
  if (asked.product.empty()) return Status::InvalidArgument("name a product");
  StatusQuery q = asked;
  Status s = ProductId(r, asked.product, &q.product);  // ids are case-insensitive
  if (!s.ok()) return s;
  Date as_of;
  s = DateOr("as_of", q.as_of, r.today, &as_of);
  if (!s.ok()) return s;
  workflow::ProductState p;
  uint64_t known_at = 0;
  if (q.as_of.empty() && q.known_at.empty()) {
    s = r.view->Product(q.product, &p);  // the read model: current knowledge
  } else {
    replay::PointInTime at;
    if (!q.as_of.empty()) at.as_of = as_of;
    s = KnownAt(r, q.known_at, &known_at);
    // Unless asked otherwise, the ledger as far as the view has folded it.
    at.known_at = known_at ? known_at : r.view->checkpoint();
    if (s.ok()) s = replay::ProductAt(r.ledger, q.product, at, &p);
  }
  if (!s.ok()) return s;
  *out = projections::StatusJson(p, as_of);
  if (known_at) (*out)["known_at"] = known_at;
  (*out)["checkpoint"] = r.view->checkpoint();
  return Status::OK();
}

}  // namespace ocop::query
