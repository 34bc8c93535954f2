// The criteria files as the build embeds them (workflow/embed_criteria.cmake
// writes criteria_data.cc from workflow/criteria/*.json): name and text.
#pragma once

#include <cstddef>

namespace ocop::workflow {

struct EmbeddedFile {
  const char* name;  // the file's name, e.g. "qd148-thuc-pham-tuoi-so-che.json"
  const char* text;  // its bytes, unchanged
};
extern const EmbeddedFile kCriteriaFiles[];
extern const size_t kCriteriaFileCount;

}  // namespace ocop::workflow
