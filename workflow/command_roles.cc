#include "workflow/command_roles.h"

#include <map>
#include <string>

namespace ocop::workflow {

using R = schema::Role;

const std::vector<schema::Role>& RolesFor(std::string_view type) {
  static const std::map<std::string, std::vector<R>, std::less<>> kRoles = {
      {"DefineUnit", {R::ADMIN}},
      {"RetireUnit", {R::ADMIN}},
      {"GrantRole", {R::ADMIN}},
      {"RevokeRole", {R::ADMIN}},
      {"RegisterOfficial", {R::ADMIN}},
      {"RegisterSubject", {R::OFFICER, R::ADMIN}},
      {"ConstituteCouncil", {R::ADMIN, R::AUTHORITY}},
      {"RegisterIdea", {R::OFFICER}},
      {"RegisterProduct", {R::OFFICER}},
      {"ClassifyProduct", {R::OFFICER}},
      {"ReviewIdea", {R::OFFICER}},
      {"SubmitPlan", {R::OFFICER}},
      {"ReviewPlan", {R::OFFICER}},
      {"GrantSupport", {R::OFFICER}},
      {"SetSupportCap", {R::ADMIN, R::AUTHORITY}},
      {"SubmitDossier", {R::OFFICER}},
      {"RecordScore", {R::COUNCIL}},
      {"Forward", {R::OFFICER, R::AUTHORITY}},
      {"ApproveResults", {R::AUTHORITY}},
      {"RevokeRating", {R::AUTHORITY}},
      {"RecordInspection", {R::INSPECTOR}},
      {"RecordPromotion", {R::OFFICER}},
      {"ImportCertificate", {R::ADMIN, R::AUTHORITY}},
      {"AnnulEvent", {R::ADMIN, R::AUTHORITY}},
      {"FileDispute", {R::OFFICER, R::AUTHORITY}},
      {"ResolveDispute", {R::AUTHORITY}},
      {"SetTarget", {R::ADMIN, R::AUTHORITY}},
      // Erasure is a decision of a People's Committee (the data controller),
      // signed by its authority; an admin may record it on its behalf.
      {"EraseSubjectData", {R::AUTHORITY, R::ADMIN}},
  };
  static const std::vector<R> kNone;
  auto it = kRoles.find(type);
  return it == kRoles.end() ? kNone : it->second;
}

}  // namespace ocop::workflow
