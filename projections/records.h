// Conversions between the workflow's states and the stored read models of
// projections/read_models.capnp. Load(Save(x)) == x for every state.
#pragma once

#include <climits>
#include <string_view>

#include "projections/read_models.capnp.h"
#include "workflow/state.h"

namespace ocop::projections {

using workflow::ProductState;
using workflow::SubjectState;
using workflow::UnitState;

void Save(const ProductState& s, schema::ProductRecord::Builder out);
ProductState Load(schema::ProductRecord::Reader in);
void Save(const UnitState& s, schema::UnitRecord::Builder out);
UnitState Load(schema::UnitRecord::Reader in);
void Save(const SubjectState& s, schema::SubjectRecord::Builder out);
SubjectState Load(schema::SubjectRecord::Reader in);

inline constexpr int32_t kNeverEnded = INT32_MAX;

// A stored text as a view, without a copy: valid while its message is.
inline std::string_view TextView(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

// The facts of certificate `index` of product `p`, with its producer's.
void SaveFact(const ProductState& p, size_t index, const SubjectState& subject,
              schema::CertificateFact::Builder out);

}  // namespace ocop::projections
