// The sample history `ocop demo` loads: Cà Mau's 237 planned product ideas
// (../shared/data, QĐ 2822/QĐ-UBND) carried through a synthetic, deterministic
// OCOP cycle from 2022 to 2025: selection, plans, dossiers, council scores
// under the rules in force on each date, decisions at the level that may
// certify, a few revocations, renewals and pre-ledger imports.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace ocop::cli {

// One CSV row of the appendix.
struct IdeaRow {
  std::string district, row, product, subject, address, legal_form, group, planned_year;
  bool subject_from_merged_cell = false;
};

// Parses the appendix (RFC 4180 quoting, header line first).
Status ParseAppendix(const std::string& csv_text, std::vector<IdeaRow>* rows);
// ParseAppendix of the file at `path`.
Status LoadAppendix(const std::string& path, std::vector<IdeaRow>* rows);

// CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF; a leading
// byte-order mark dropped) as records of fields; blank lines are skipped.
std::vector<std::vector<std::string>> SplitCsv(std::string_view text);

// One command of the sample history and who submits it (empty: the local
// superuser), so that the audit trail shows the officials who would act.
struct DemoCommand {
  std::string principal;
  std::string json;
};
std::vector<DemoCommand> DemoCommands(const std::vector<IdeaRow>& rows);

// Only the appendix itself: the province and its nine districts, the
// producers and the 237 product ideas, as the local superuser would load them.
std::vector<DemoCommand> AppendixCommands(const std::vector<IdeaRow>& rows);

// The QĐ 919 group of an appendix row that has no code, read from the
// product's name with a small table of keywords (ASCII letters folded to
// lower case): 4 for bags, backpacks and wallets woven of bồn bồn and other
// handicrafts, 1 for dried shrimp, fish and other food; 0 when no keyword
// matches (the demo then leaves the product unclassified).
int GroupByName(const std::string& name);

// Where the appendix is looked for when no path is given.
std::string FindAppendix();

}  // namespace ocop::cli
