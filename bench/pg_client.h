// libpq for the PostgreSQL peers (peer_postgres, national_pg): connecting,
// running a statement that must succeed, and COPY's text escaping. A failure
// aborts the benchmark with the server's message: a peer that lost a row must
// not print a figure.
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

#include "harness.h"

namespace ocop::bench {

inline PGconn* Connect(const std::string& conninfo) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) Fail(std::string("connect: ") + PQerrorMessage(c));
  return c;
}

// Runs `sql`, expecting `want`; aborts with the server's message otherwise.
inline PGresult* Exec(PGconn* c, const std::string& sql, ExecStatusType want = PGRES_COMMAND_OK) {
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != want) Fail(sql.substr(0, 200) + ": " + PQresultErrorMessage(r));
  return r;
}

inline void ExecClear(PGconn* c, const std::string& sql) { PQclear(Exec(c, sql)); }

// COPY text format: backslash, tab, newline and carriage return are escaped.
inline void AppendCopyField(std::string* out, std::string_view f) {
  for (char ch : f) {
    switch (ch) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        out->push_back(ch);
    }
  }
}

}  // namespace ocop::bench
