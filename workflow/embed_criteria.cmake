# Writes OUT, a C++ file holding every criteria set of FILES ("|"-separated
# paths) as a raw string, so that the ocop binary carries its criteria and
# needs no data directory. Run by workflow/CMakeLists.txt at build time.
string(REPLACE "|" ";" files "${FILES}")
set(body "")
foreach(f IN LISTS files)
  file(READ "${f}" text)
  string(FIND "${text}" ")ocopjson\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )ocopjson\"")
  endif()
  get_filename_component(name "${f}" NAME)
  string(APPEND body "    {\"${name}\", R\"ocopjson(${text})ocopjson\"},\n")
endforeach()
list(LENGTH files count)
file(WRITE "${OUT}.tmp" "// Written by workflow/embed_criteria.cmake from workflow/criteria/*.json.
#include \"workflow/criteria_data.h\"

namespace ocop::workflow {
const EmbeddedFile kCriteriaFiles[] = {
${body}};
const size_t kCriteriaFileCount = ${count};
}  // namespace ocop::workflow
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
