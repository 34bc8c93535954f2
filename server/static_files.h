// The dashboard's files, compiled into the binary from web/ (no CDN: the
// officials' networks are often closed).
#pragma once

#include <cstddef>
#include <string>

namespace ocop::server {

struct StaticFile {
  const char* path;          // "/index.html"
  const char* content_type;  // "text/html; charset=utf-8"
  const char* content;
  size_t size;
};

// nullptr when there is no such file.
const StaticFile* FindStatic(const std::string& path);

}  // namespace ocop::server
